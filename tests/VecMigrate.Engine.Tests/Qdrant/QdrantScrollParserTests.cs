using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VecMigrate.Engine.Qdrant;
using VecMigrate.Engine.Records;
using static VecMigrate.Engine.Tests.Qdrant.QdrantTestKit;

namespace VecMigrate.Engine.Tests.Qdrant;

/// <summary>
/// The scroll parser scans vector arrays itself and sets the JSON reader down after them: the records must be
/// exactly what a token-by-token read gives, whatever the layout, and broken JSON must still be refused.
/// </summary>
public sealed class QdrantScrollParserTests
{
    private static QdrantScrollPage Parse(string json) =>
        QdrantScrollParser.Parse(Encoding.UTF8.GetBytes(json), default, (m, inner) => new VecMigrateException(FailureKind.InvalidResponse, "QdrantInvalidResponse", m, null, inner));

    private const string Mixed = """
        {"result":{"points":[
          {"id":1,"payload":{"a":[1,2,{"b":"x"}],"s":"]"},"vector":[0.5,-0.25,1e-45,3.4028235e38,-0.0]},
          {"vector":{"d":[1,2,3],"m":[[1,2],[3,4],[5,6]],"s":{"indices":[7,3],"values":[0.125,-8]}},"id":"6f1a8c5e-0000-4000-8000-000000000000","payload":{"k":"v"}},
          {"id":3,"vector":[],"payload":{}},
          {"id":4,"vector":{"m":[[ ]],"d":[ 1 , 2
          ,	3 ]},"payload":null,"shard_key":"x"}
        ],"next_page_offset":5},"status":"ok","time":0.002}
        """;

    [Fact]
    public void Records_are_the_same_in_compact_indented_and_spaced_layouts()
    {
        var compact = JsonNode.Parse(Mixed)!.ToJsonString();
        var indented = JsonNode.Parse(Mixed)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var expected = Parse(compact);
        foreach (var text in new[] { Mixed, indented })
        {
            var page = Parse(text);
            Assert.Equal(expected.NextPageOffset, page.NextPageOffset);
            Assert.Equal(expected.Points.Count, page.Points.Count);
            for (var i = 0; i < page.Points.Count; i++) AssertSameRecord(expected.Points[i], page.Points[i], text);
        }
        var first = expected.Points[0];
        AssertSameFloats([0.5f, -0.25f, float.Epsilon, float.MaxValue, -0f], first.Embedding!);
        Assert.True(JsonPayload.DeepEquals("""{"a":[1,2,{"b":"x"}],"s":"]"}"""u8, first.Payload!.Utf8Json.Span));
        var second = expected.Points[1];
        Assert.Equal([[1f, 2f], [3f, 4f], [5f, 6f]], ((MultiVector)second.Vectors["m"]).Vectors);
        Assert.Equal([0.125f, -8f], ((SparseVector)second.Vectors["s"]).Values);
        Assert.Equal("""{"k":"v"}""", second.Payload!.ToString());
        Assert.Empty(expected.Points[2].Embedding!);
        Assert.Equal([1f, 2f, 3f], ((DenseVector)expected.Points[3].Vectors["d"]).Values);
    }

    [Fact]
    public void Payload_bytes_after_a_scanned_vector_are_the_bytes_sent()
    {
        var page = Parse("""{"result":{"points":[{"id":1,"vector":[1,2,3],"payload":{"x" : [4, 5],"y":"z"}},{"id":2,"vector":[4],"payload":{"n":1}}],"next_page_offset":null}}""");
        Assert.Equal("""{"x" : [4, 5],"y":"z"}""", page.Points[0].Payload!.ToString());
        Assert.Equal("""{"n":1}""", page.Points[1].Payload!.ToString());
    }

    [Fact]
    public void Vectors_longer_than_the_scratch_buffer_are_read_whole()
    {
        var values = Enumerable.Range(0, 10_000).Select(i => i / 7f).ToArray();
        var array = JsonSerializer.Serialize(values);
        var json = "{\"result\":{\"points\":[{\"id\":1,\"vector\":" + array + "},{\"id\":2,\"vector\":" + array + "}],\"next_page_offset\":null}}";
        var page = Parse(json);
        AssertSameFloats(values, page.Points[0].Embedding!);
        AssertSameFloats(values, page.Points[1].Embedding!);
    }

    [Theory]
    [InlineData("""{"id":1,"vector":[1,2] "payload":{}}""")] // missing comma after the array
    [InlineData("""{"id":1,"vector":[1,2]]}""")]
    [InlineData("""{"id":1,"vector":[1,2],}""")]
    [InlineData("""{"id":1,"vector":[1,2,]}""")]
    [InlineData("""{"id":1,"vector":[1,02]}""")]
    [InlineData("""{"id":1,"vector":[1,"2"]}""")]
    [InlineData("""{"id":1,"vector":[1,1e999]}""")]
    [InlineData("""{"id":1,"vector":{"a":[1,2]"b":[3]}}""")]
    [InlineData("""{"id":1,"vector":[[1,2],3]}""")]
    [InlineData("""{"id":1,"vector":[[1,2],[3]]}""")]
    public void Broken_or_wrong_vectors_are_still_refused(string point)
    {
        var ex = Assert.Throws<VecMigrateException>(() => Parse("{\"result\":{\"points\":[" + point + "],\"next_page_offset\":null}}"));
        Assert.Equal("QdrantInvalidResponse", ex.ErrorId);
    }

    [Fact]
    public void An_answer_cut_off_after_a_vector_is_refused()
    {
        var ex = Assert.Throws<VecMigrateException>(() => Parse("""{"result":{"points":[{"id":1,"vector":[1,2]"""));
        Assert.Equal("QdrantInvalidResponse", ex.ErrorId);
    }

    private static void AssertSameRecord(VectorRecord expected, VectorRecord actual, string context)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Vectors.Keys.Order(), actual.Vectors.Keys.Order());
        foreach (var (name, value) in expected.Vectors)
        {
            switch (value)
            {
                case DenseVector d: AssertSameFloats(d.Values, ((DenseVector)actual.Vectors[name]).Values); break;
                case MultiVector m:
                    var other = (MultiVector)actual.Vectors[name];
                    Assert.Equal(m.Vectors.Length, other.Vectors.Length);
                    for (var i = 0; i < m.Vectors.Length; i++) AssertSameFloats(m.Vectors[i], other.Vectors[i]);
                    break;
                case SparseVector s:
                    Assert.Equal(s.Indices, ((SparseVector)actual.Vectors[name]).Indices);
                    AssertSameFloats(s.Values, ((SparseVector)actual.Vectors[name]).Values);
                    break;
            }
        }
        if (expected.Payload is null) Assert.Null(actual.Payload);
        else Assert.True(JsonPayload.DeepEquals(expected.Payload.Utf8Json.Span, actual.Payload!.Utf8Json.Span), context);
    }
}
