using MLNet.WeightSelection.Training;
using Xunit;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Tests.Training;

public class LossesTests
{
    static readonly double[][] LogitRows = { new double[] { 1, 2, 3 }, new double[] { 0.5, -1, 0 } };

    static double[] LogSoftmax(double[] z)
    {
        double max = z.Max();
        double lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
        return z.Select(v => v - lse).ToArray();
    }

    static Tensor Logits() => tensor(LogitRows.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 });

    [Fact]
    public void LabelSmoothingCrossEntropyMatchesHandComputation()
    {
        using var logits = Logits();
        using var labels = tensor(new long[] { 2, 0 });
        const double eps = 0.1;
        double expected = 0;
        var y = new[] { 2, 0 };
        for (int i = 0; i < 2; i++)
        {
            var lp = LogSoftmax(LogitRows[i]);
            expected += (1 - eps) * -lp[y[i]] + eps * -lp.Average();
        }
        expected /= 2;
        using var loss = Losses.LabelSmoothingCrossEntropy(logits, labels, eps);
        Assert.Equal(expected, loss.item<float>(), 5);

        // Row 0 by hand: logsumexp(1, 2, 3) = 3.40760596, so 0.9 · 0.40760596 + 0.1 · 1.40760596 = 0.50760596.
        using var first = Losses.LabelSmoothingCrossEntropy(logits.narrow(0, 0, 1), labels.narrow(0, 0, 1), eps);
        Assert.Equal(0.50760596, first.item<float>(), 5);

        // Without smoothing it is plain cross-entropy.
        using var plain = Losses.LabelSmoothingCrossEntropy(logits, labels, 0);
        using var reference = nn.functional.cross_entropy(logits, labels);
        Assert.Equal(reference.item<float>(), plain.item<float>(), 6);
    }

    [Fact]
    public void SoftTargetCrossEntropyMatchesHandComputationAndSmoothedOneHot()
    {
        using var logits = Logits();
        var targets = new[] { new[] { 0.7, 0.2, 0.1 }, new[] { 0.0, 0.5, 0.5 } };
        using var t = tensor(targets.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            var lp = LogSoftmax(LogitRows[i]);
            expected -= Enumerable.Range(0, 3).Sum(k => targets[i][k] * lp[k]);
        }
        using var loss = Losses.SoftTargetCrossEntropy(logits, t);
        Assert.Equal(expected / 2, loss.item<float>(), 5);

        // Soft-target CE of a smoothed one-hot equals label-smoothing CE.
        using var labels = tensor(new long[] { 1, 2 });
        using var smooth = Losses.SmoothedOneHot(labels, 3, 0.3);
        Assert.Equal(new[] { 0.1f, 0.8f, 0.1f, 0.1f, 0.1f, 0.8f }, smooth.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
        using var a = Losses.SoftTargetCrossEntropy(logits, smooth);
        using var b = Losses.LabelSmoothingCrossEntropy(logits, labels, 0.3);
        Assert.Equal(b.item<float>(), a.item<float>(), 5);
    }

    [Fact]
    public void LogitDistillationIsKlTimesTemperatureSquared()
    {
        using var student = Logits();
        var teacherRows = new[] { new double[] { 3, 1, 0 }, new double[] { 0, 0, 2 } };
        using var teacher = tensor(teacherRows.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
        const double T = 2;
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            var ls = LogSoftmax(LogitRows[i].Select(v => v / T).ToArray());
            var lt = LogSoftmax(teacherRows[i].Select(v => v / T).ToArray());
            expected += Enumerable.Range(0, 3).Sum(k => Math.Exp(lt[k]) * (lt[k] - ls[k]));
        }
        expected = expected / 2 * T * T;
        using var kd = Losses.LogitDistillation(student, teacher, T);
        Assert.Equal(expected, kd.item<float>(), 5);

        using var same = Losses.LogitDistillation(student, student, T);
        Assert.Equal(0, same.item<float>(), 6);
    }

    [Fact]
    public void FeatureDistillationIsMeanAbsoluteDifference()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = tensor(new float[] { 0, 2, 5, 3 }, new long[] { 2, 2 });
        using var l1 = Losses.FeatureDistillation(a, b);
        Assert.Equal((1 + 0 + 2 + 1) / 4.0, l1.item<float>(), 6);
    }
}
