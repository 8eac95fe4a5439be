namespace MLNet.WeightSelection.Tests.Onnx;

/// <summary>ML.NET's pretrained ResNet-18 files, copied to the test output by the Microsoft.ML.DnnImageFeaturizer.ResNet18 package.</summary>
internal static class Resnet18Files
{
    public static string Model { get; } = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static string Preprocess { get; } = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
}
