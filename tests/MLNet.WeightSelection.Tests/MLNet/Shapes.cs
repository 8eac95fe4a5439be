using System.Reflection;
using Microsoft.ML;

namespace MLNet.WeightSelection.Tests.MLNet;

/// <summary>A <see cref="SchemaShape"/> of a real schema, as ML.NET's pipelines pass to <c>GetOutputSchema</c> (its factory is internal).</summary>
public static class Shapes
{
    public static SchemaShape Of(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, new[] { typeof(DataViewSchema) })!
            .Invoke(null, new object[] { schema })!;
}
