using MLNet.WeightSelection.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Checkpoints;

public class DTypeTests
{
    [Theory]
    [InlineData("F64", ScalarType.Float64, 8)]
    [InlineData("F32", ScalarType.Float32, 4)]
    [InlineData("F16", ScalarType.Float16, 2)]
    [InlineData("BF16", ScalarType.BFloat16, 2)]
    [InlineData("I64", ScalarType.Int64, 8)]
    [InlineData("I32", ScalarType.Int32, 4)]
    [InlineData("I16", ScalarType.Int16, 2)]
    [InlineData("I8", ScalarType.Int8, 1)]
    [InlineData("U8", ScalarType.Byte, 1)]
    [InlineData("BOOL", ScalarType.Bool, 1)]
    public void NamesTypesAndSizesAgreeWithTorch(string name, ScalarType type, int size)
    {
        Assert.Equal(type, DType.FromSafeTensors(name));
        Assert.Equal(name, DType.ToSafeTensors(type));
        Assert.Equal(size, DType.ElementSize(type));
        using var t = zeros(1, type);
        Assert.Equal(size, (int)t.ElementSize);
        Assert.Equal(t.is_floating_point(), DType.IsFloatingPoint(type));
    }

    [Fact]
    public void UnknownNamesAndTypesAreRejected()
    {
        Assert.False(DType.TryFromSafeTensors("f32", out _)); // names are case-sensitive, as in the format
        Assert.Contains("'F8_E4M3'", Assert.Throws<ArgumentException>(() => DType.FromSafeTensors("F8_E4M3")).Message);
        Assert.Throws<ArgumentException>(() => DType.ToSafeTensors(ScalarType.ComplexFloat32));
        Assert.Throws<ArgumentException>(() => DType.ElementSize(ScalarType.ComplexFloat64));
        Assert.False(DType.IsSupported(ScalarType.ComplexFloat32));
    }
}
