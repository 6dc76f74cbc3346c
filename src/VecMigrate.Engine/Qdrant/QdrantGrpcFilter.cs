using Qdrant.Client.Grpc;

namespace VecMigrate.Engine.Qdrant;

/// <summary>A REST filter (JSON) as the official client's gRPC <see cref="Filter"/>.</summary>
internal static class QdrantGrpcFilter
{
    public static Filter FromJson(string json, string target) =>
        throw new VecMigrateException(FailureKind.InvalidArgument, "QdrantGrpcFilterUnsupported",
            "Reads over Qdrant's gRPC API do not support a filter (-Filter) yet; read over REST (no gRPC url) to filter.", target);
}
