using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// Scalar random draws (uniform, normal, gamma, beta) taken from a seeded <see cref="Generator"/>, so that one
/// generator determines every tensor draw and every scalar decision of an epoch.
/// </summary>
internal sealed class RandomSource
{
    const int ChunkSize = 256;
    readonly Generator _generator;
    readonly double[] _buffer = new double[ChunkSize];
    int _next = ChunkSize;

    public RandomSource(Generator generator) => _generator = generator;

    /// <summary>The generator behind the draws, for tensor-valued sampling (randperm, randn).</summary>
    public Generator Generator => _generator;

    /// <summary>Seed for an epoch: a SplitMix64 hash of (seed, epoch), so each epoch's stream is fixed on its own.</summary>
    public static long EpochSeed(int seed, int epoch, ulong stream = 0)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch * 0xBF58476D1CE4E5B9UL + stream * 0x94D049BB133111EBUL + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (long)(z >> 1); // non-negative, as torch seeds are
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble()
    {
        if (_next == ChunkSize)
        {
            using var chunk = rand(ChunkSize, ScalarType.Float64, generator: _generator);
            chunk.data<double>().CopyTo(_buffer);
            _next = 0;
        }
        return _buffer[_next++];
    }

    /// <summary>Uniform in [a, b).</summary>
    public double Uniform(double a, double b) => a + (b - a) * NextDouble();

    /// <summary>Uniform integer in [low, high); <paramref name="low"/> when the range is empty.</summary>
    public int NextInt(int low, int high) => high <= low ? low : Math.Min(high - 1, low + (int)(NextDouble() * (high - low)));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => p > 0 && NextDouble() < p;

    /// <summary>Standard normal (Box–Muller).</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang, boosted for shape &lt; 1.</summary>
    public double Gamma(double shape)
    {
        if (shape < 1)
        {
            double u = 1.0 - NextDouble();
            return Gamma(shape + 1) * Math.Pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do { x = Normal(); v = 1.0 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    public double Beta(double a, double b)
    {
        double x = Gamma(a), y = Gamma(b);
        return x + y == 0 ? 0.5 : x / (x + y);
    }
}
