using System.Text;
using System.Text.Json;
using MLNet.WeightSelection.Models.Json;

namespace MLNet.WeightSelection.Models;

/// <summary>
/// The configuration of one model, per family, in timm's constructor keyword arguments. Its JSON form is
/// <c>{"family": "vit", ...timm keyword arguments...}</c>, as in tests/golden/manifest.json's cases, with an
/// optional <c>"pretrained_cfg"</c> object (input size, mean, std, interpolation) like timm's.
/// Each family's spec record (Models/&lt;Family&gt;/) derives from this.
/// </summary>
public abstract record ModelSpec
{
    /// <summary>Family name used in JSON and presets (its ModelFamily's Name, e.g. "vit").</summary>
    public abstract string Family { get; }

    /// <summary>Number of classifier outputs (timm's <c>num_classes</c>); 0 gives an identity head.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Input channels (timm's <c>in_chans</c>).</summary>
    public int InChans { get; init; } = 3;

    /// <summary>
    /// Side of the square images the model expects. For ViT this is timm's <c>img_size</c> (it fixes the position
    /// embedding grid); for convolutional families it is the pretrained config's input size (a hint for data
    /// preparation: the network itself accepts any size).
    /// </summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>How input images are prepared for this model (timm's pretrained_cfg mean, std, interpolation).</summary>
    public InputConvention Input { get; init; } = InputConvention.ImageNet;

    /// <summary>Builds the module with freshly initialized weights (timm's initialization scheme).</summary>
    public abstract ImageClassifier CreateModel();

    /// <summary>This spec with another number of classes.</summary>
    public ModelSpec WithNumClasses(int numClasses) => this with { NumClasses = numClasses };

    /// <summary>
    /// Image sides this model takes best are multiples of this (a ViT's patch size; 8 for the convolutional families,
    /// whose layers accept any size). The fitted recipe rounds the image size it chooses up to a multiple.
    /// </summary>
    public virtual int ImageSizeMultiple => 8;

    /// <summary>
    /// The family's checkpoint adapter (timm's <c>checkpoint_filter_fn</c>) for models of this spec: key renames from a
    /// family's other releases and shape fixes. The default strips DataParallel's <c>module.</c> prefix only.
    /// </summary>
    public virtual CheckpointFilter CreateCheckpointFilter() => CheckpointFilter.Default;

    /// <summary>This spec with stochastic depth <paramref name="rate"/> (timm's <c>drop_path_rate</c>).</summary>
    /// <exception cref="NotSupportedException">The family has no stochastic depth.</exception>
    public virtual ModelSpec WithDropPathRate(double rate) =>
        throw new NotSupportedException($"DropPathRate cannot be set on a '{Family}' model: its family has no stochastic depth.");

    /// <summary>This spec at another image size (ViT: another position-embedding grid).</summary>
    public ModelSpec WithImageSize(int imageSize) => this with { ImageSize = imageSize };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent keyword argument.</summary>
    public virtual void Validate()
    {
        if (NumClasses < 0) throw new ArgumentException($"{Family} spec: num_classes must be >= 0; got {NumClasses}.");
        if (InChans <= 0) throw new ArgumentException($"{Family} spec: in_chans must be positive; got {InChans}.");
        if (ImageSize <= 0) throw new ArgumentException($"{Family} spec: the image size must be positive; got {ImageSize}.");
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="kwarg"/> when <paramref name="ok"/> is false.</summary>
    protected void Require(bool ok, string kwarg, string problem)
    {
        if (!ok) throw new ArgumentException($"{Family} spec: {kwarg} {problem}.");
    }

    /// <summary>
    /// Parses a spec: a JSON object with <c>"family"</c> and timm keyword arguments. When <paramref name="family"/> is
    /// given, the object may omit <c>"family"</c> (as the manifest's teacher/student entries do).
    /// </summary>
    /// <exception cref="JsonException">Malformed JSON, an unknown family, or an unknown or mistyped property (named in the message).</exception>
    public static ModelSpec FromJson(string json, string? family = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = ParseDocument(json);
        return FromJson(doc.RootElement, family);
    }

    /// <summary>Parses a spec from a JSON element (see <see cref="FromJson(string, string?)"/>).</summary>
    public static ModelSpec FromJson(JsonElement element, string? family = null)
    {
        var root = new KwargsReader(element, "model spec");
        string? declared = root.Has("family") ? root.String("family", "") : null;
        if (declared is not null && family is not null && !string.Equals(declared, family, StringComparison.Ordinal))
            throw root.Error("family", $"is \"{declared}\" but \"{family}\" was expected");
        string name = declared ?? family
            ?? throw new JsonException($"model spec: required property 'family' is missing ({string.Join(", ", ModelFamilies.Names.Select(n => $"\"{n}\""))}).", "$.family", null, null);
        if (!ModelFamilies.TryGet(name, out var modelFamily))
            throw root.Error("family", $"must be one of {string.Join(", ", ModelFamilies.Names.Select(n => $"\"{n}\""))}; got \"{name}\"");

        var kwargs = new KwargsReader(element, $"{name} spec");
        kwargs.Skip("family");
        var spec = modelFamily.ReadSpec(kwargs);
        spec = spec with
        {
            NumClasses = kwargs.Int("num_classes", spec.NumClasses),
            InChans = kwargs.Int("in_chans", spec.InChans),
        };
        if (kwargs.Object("pretrained_cfg", $"{name} spec pretrained_cfg") is { } cfg)
        {
            var (input, size) = PretrainedCfgJson.Read(cfg, spec.Input);
            if (size is { } s && spec.UsesImageSizeKwarg && s != spec.ImageSize)
                throw kwargs.Error("pretrained_cfg", $"has input_size {s} but img_size is {spec.ImageSize}");
            spec = spec with { Input = input, ImageSize = size ?? spec.ImageSize };
        }
        kwargs.EnsureAllRead();
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new JsonException(e.Message, "$", null, null, e); }
        return spec;
    }

    /// <summary>The JSON form: <c>"family"</c>, every timm keyword argument of the family, and <c>"pretrained_cfg"</c>.</summary>
    public string ToJson(bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            writer.WriteStartObject();
            writer.WriteString("family", Family);
            WriteKwargs(writer);
            writer.WriteNumber("num_classes", NumClasses);
            writer.WriteNumber("in_chans", InChans);
            PretrainedCfgJson.Write(writer, Input, InChans, ImageSize);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the family's own keyword arguments (everything but family, num_classes, in_chans, pretrained_cfg).</summary>
    protected abstract void WriteKwargs(Utf8JsonWriter writer);

    /// <summary>True when <see cref="ImageSize"/> is a constructor keyword argument (ViT's <c>img_size</c>) rather than a pretrained-config hint.</summary>
    protected virtual bool UsesImageSizeKwarg => false;

    static JsonDocument ParseDocument(string json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new JsonException($"model spec: not valid JSON ({e.Message})", e.Path, e.LineNumber, e.BytePositionInLine, e);
        }
    }
}
