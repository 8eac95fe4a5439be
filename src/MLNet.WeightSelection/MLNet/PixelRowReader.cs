using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// One cursor over the training view of <see cref="PixelPipeline.ForTraining"/>: reads a row's label and its planar
/// pixels as bytes, with the checks and messages of <see cref="ImageRows"/>. The image is decoded, resized and extracted
/// inside the getter, on the thread that calls <see cref="Read"/>. Not thread-safe: one reader per thread.
/// </summary>
internal sealed class PixelRowReader : IDisposable
{
    readonly DataViewRowCursor _cursor;
    readonly ValueGetter<VBuffer<byte>>? _getBytes;
    readonly ValueGetter<VBuffer<float>>? _getFloats;
    readonly ValueGetter<uint> _getLabel;
    readonly string _labelName;
    readonly string _imageColumn;
    readonly bool _skipUnreadable;
    VBuffer<byte> _bytes;
    VBuffer<float> _floats;

    /// <param name="data">The training view.</param>
    /// <param name="pixelsColumn">Its pixel column: <c>Vector&lt;Byte&gt;</c>, or <c>Vector&lt;Single&gt;</c> of 0–255 values.</param>
    /// <param name="label">The label column.</param>
    /// <param name="imageBytes">Bytes per image (3 × side²).</param>
    /// <param name="imageColumn">The user's image column, for error messages.</param>
    /// <param name="skipUnreadable">Report an unreadable image as skipped instead of throwing.</param>
    public PixelRowReader(IDataView data, string pixelsColumn, LabelColumn label, int imageBytes, string imageColumn, bool skipUnreadable)
    {
        var pixels = data.Schema[pixelsColumn];
        var labelColumn = data.Schema[label.Name];
        ImageBytes = imageBytes;
        _labelName = label.Name;
        _imageColumn = imageColumn;
        _skipUnreadable = skipUnreadable;
        // A cursor set of one, not GetRowCursor: for a cacheable column ML.NET's GetRowCursor may consolidate a
        // parallel set, which wraps the first getter exception (a bad image) in an InvalidOperationException and stops.
        _cursor = data.GetRowCursorSet(new[] { pixels, labelColumn }, 1)[0];
        if (pixels.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Byte)
            _getBytes = _cursor.GetGetter<VBuffer<byte>>(pixels);
        else
            _getFloats = _cursor.GetGetter<VBuffer<float>>(pixels);
        _getLabel = _cursor.GetGetter<uint>(labelColumn);
    }

    /// <summary>Bytes per image.</summary>
    public int ImageBytes { get; }

    /// <summary>The current row's index in the data view.</summary>
    public long Position => _cursor.Position;

    /// <summary>Moves to the next row (cheap: nothing is decoded until <see cref="Read"/>).</summary>
    public bool MoveNext() => _cursor.MoveNext();

    /// <summary>
    /// Reads the current row's image into <paramref name="target"/> (<see cref="ImageBytes"/> bytes) and returns its
    /// 0-based class index; or returns null with the reason when the image is unreadable and such rows are skipped.
    /// </summary>
    /// <exception cref="InvalidDataException">The label is missing, or the image is unreadable (and not skipped), or
    /// has the wrong number of pixels, or a pixel is outside 0–255; the message names the row.</exception>
    public long? Read(Span<byte> target, out string? skipReason)
    {
        long row = _cursor.Position;
        skipReason = null;
        uint key = 0;
        _getLabel(ref key);
        if (key == 0)
            throw new InvalidDataException(
                $"Row {row}: the label '{_labelName}' is missing (key 0: a value MapValueToKey did not know). Remove the row or map every label value.");
        try
        {
            if (_getBytes is not null) _getBytes(ref _bytes);
            else _getFloats!(ref _floats);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            string reason = Innermost(e).Message;
            if (!_skipUnreadable)
                throw new InvalidDataException(
                    $"Row {row}: the image in column '{_imageColumn}' could not be read: {reason} " +
                    "Fix or remove it, or set SkipUnreadableImages = true to skip such rows.", e);
            skipReason = reason;
            return null;
        }
        if (_getBytes is not null) CopyBytes(target, row);
        else CopyFloats(target, row);
        return key - 1;
    }

    void CopyBytes(Span<byte> target, long row)
    {
        CheckLength(_bytes.Length, row);
        var values = _bytes.GetValues();
        if (values.Length == ImageBytes)
        {
            values.CopyTo(target);
            return;
        }
        target.Clear();
        var indices = _bytes.GetIndices();
        for (int i = 0; i < values.Length; i++) target[indices[i]] = values[i];
    }

    void CopyFloats(Span<byte> target, long row)
    {
        CheckLength(_floats.Length, row);
        var values = _floats.GetValues();
        if (values.Length == ImageBytes)
        {
            for (int i = 0; i < values.Length; i++) target[i] = ToByte(values[i], row);
            return;
        }
        target.Clear();
        var indices = _floats.GetIndices();
        for (int i = 0; i < values.Length; i++) target[indices[i]] = ToByte(values[i], row);
    }

    void CheckLength(int length, long row)
    {
        if (length != ImageBytes)
            throw new InvalidDataException($"Row {row}: expected {ImageBytes} pixel values from column '{_imageColumn}', got {length}.");
    }

    byte ToByte(float value, long row)
    {
        if (!(value >= -0.5f && value <= 255.5f))
            throw new InvalidDataException(
                $"Row {row}: a pixel of column '{_imageColumn}' is {value}; pixels must be 0–255 (ExtractPixels with its default scaleImage 1 and offsetImage 0).");
        return (byte)MathF.Round(value);
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null && (e is InvalidOperationException or System.Reflection.TargetInvocationException or AggregateException))
            e = e.InnerException;
        return e;
    }

    /// <inheritdoc />
    public void Dispose() => _cursor.Dispose();
}
