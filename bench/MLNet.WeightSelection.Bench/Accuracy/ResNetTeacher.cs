using MLNet.WeightSelection.Models.ResNet;

namespace MLNet.WeightSelection.Bench.Accuracy;

/// <summary>ML.NET's ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18, exported by CNTK), copied next to the benchmark by the package.</summary>
static class ResNetTeacher
{
    /// <summary>The image size the teacher's architecture was made for (ImageNet's 224 px), which the recipe's adaptation rule reads.</summary>
    public const int ImageSize = 224;

    public static string OnnxPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static OnnxResNetImport Import()
    {
        var import = OnnxResNetImporter.Import(OnnxPath);
        if (!import.PaddingMatchesTimm(32, 32))
            throw new InvalidOperationException("The CNTK ResNet-18's asymmetric padding would differ from timm's at 32 px.");
        return import;
    }
}
