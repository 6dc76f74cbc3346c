namespace VecMigrate; internal static class Placeholder { }
