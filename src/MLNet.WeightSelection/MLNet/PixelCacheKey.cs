using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.WeightSelection.MLNet;

/// <summary>
/// What a pixel cache entry is keyed by: a SHA-256 over the reading settings and one pass over the data's cheap
/// columns, so that any change that could change a decoded pixel or a label gives another key.
/// </summary>
/// <remarks>
/// The data is fingerprinted without decoding it. Encoded image bytes are hashed whole. Images loaded by
/// <c>LoadImages</c> are known only by the paths they came from, so every row's text columns are hashed and, where a
/// value names an existing file, its length and last write time too; the key is given only when some text column
/// names an existing file on every row (otherwise a changed file could not be told). Labels (keys with their values)
/// and every other scalar column are hashed as they are. Pixel vectors are never cached: there is nothing to decode.
/// </remarks>
internal static class PixelCacheKey
{
    /// <summary>Changes whenever what a given row reads as can change (pixel steps, byte layout, cache format).</summary>
    public const string ReadingVersion = "ws-pixels/1 planar-rgb-uint8 resize=ml.net-default-crop";

    /// <summary>The key, or null with the reason when the data cannot be fingerprinted completely.</summary>
    public static (string? Key, string? WhyNot) Compute(IDataView data, ImageColumn image, LabelColumn label, int imageSize, bool skipUnreadable, Action throwIfCanceled)
    {
        if (image.Kind == ImageColumnKind.Pixels)
            return (null, $"column '{image.Name}' holds pixel vectors, which need no decoding");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData(new byte[] { 0 });
        }
        Add(ReadingVersion);
        Add(string.Create(CultureInfo.InvariantCulture, $"size={imageSize} kind={image.Kind} skip={skipUnreadable} label={label.Name}:{label.ClassCount}"));
        foreach (var name in label.Names) Add(name);

        bool encoded = image.Kind == ImageColumnKind.EncodedBytes;
        var columns = data.Schema.Where(c => !c.IsHidden && (c.Name == image.Name ? encoded : Hashable(c.Type))).ToArray();
        using var cursor = data.GetRowCursor(columns);
        var readers = columns.Select(c => Reader(cursor, c, c.Name == image.Name, hash)).ToArray();
        var textColumns = columns.Select((c, i) => (c, i)).Where(p => p.c.Type is TextDataViewType).Select(p => p.i).ToArray();
        var allFiles = textColumns.ToDictionary(i => i, _ => true);
        long rows = 0;
        while (cursor.MoveNext())
        {
            if ((rows++ & 1023) == 0) throwIfCanceled();
            for (int i = 0; i < readers.Length; i++)
            {
                bool isFile = readers[i]();
                if (allFiles.ContainsKey(i) && !isFile) allFiles[i] = false;
            }
        }
        Add(string.Create(CultureInfo.InvariantCulture, $"rows={rows}"));

        bool complete = encoded || allFiles.Values.Any(v => v);
        if (!complete)
            return (null, $"the images of column '{image.Name}' come from LoadImages, and no text column names an existing file on every row " +
                "(paths relative to an image folder cannot be checked), so a changed image could not be told from the cache");
        return (Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(), null);
    }

    static bool Hashable(DataViewType type) =>
        type is TextDataViewType or KeyDataViewType or BooleanDataViewType
        || type == NumberDataViewType.Single || type == NumberDataViewType.Double
        || type == NumberDataViewType.Int32 || type == NumberDataViewType.Int64;

    /// <summary>A reader that adds the current row's value of <paramref name="column"/> to the hash; it returns whether the value named an existing file.</summary>
    static Func<bool> Reader(DataViewRowCursor cursor, DataViewSchema.Column column, bool isImage, IncrementalHash hash)
    {
        void Bytes(ReadOnlySpan<byte> bytes)
        {
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, (long)bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        void Long(long value)
        {
            Span<byte> b = stackalloc byte[8];
            BitConverter.TryWriteBytes(b, value);
            hash.AppendData(b);
        }

        if (isImage)
        {
            var getBytes = cursor.GetGetter<VBuffer<byte>>(column);
            VBuffer<byte> encoded = default;
            return () =>
            {
                getBytes(ref encoded);
                var dense = encoded.DenseValues().ToArray(); // encoded bytes are dense; the copy keeps sparse ones honest
                Bytes(dense);
                return false;
            };
        }
        switch (column.Type)
        {
            case TextDataViewType:
            {
                var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> value = default;
                return () =>
                {
                    get(ref value);
                    Bytes(Encoding.UTF8.GetBytes(value.ToArray()));
                    var info = value.Length is > 0 and < 4096 ? new FileInfo(value.ToString()) : null;
                    if (info is not { Exists: true }) return false;
                    Long(info.Length);
                    Long(info.LastWriteTimeUtc.Ticks);
                    return true;
                };
            }
            case KeyDataViewType:
            {
                var get = cursor.GetGetter<uint>(column);
                uint value = 0;
                return () => { get(ref value); Long(value); return false; };
            }
            case BooleanDataViewType:
            {
                var get = cursor.GetGetter<bool>(column);
                bool value = false;
                return () => { get(ref value); Long(value ? 1 : 0); return false; };
            }
        }
        if (column.Type == NumberDataViewType.Single)
        {
            var get = cursor.GetGetter<float>(column);
            float value = 0;
            return () => { get(ref value); Long(BitConverter.SingleToInt32Bits(value)); return false; };
        }
        if (column.Type == NumberDataViewType.Double)
        {
            var get = cursor.GetGetter<double>(column);
            double value = 0;
            return () => { get(ref value); Long(BitConverter.DoubleToInt64Bits(value)); return false; };
        }
        if (column.Type == NumberDataViewType.Int32)
        {
            var get = cursor.GetGetter<int>(column);
            int value = 0;
            return () => { get(ref value); Long(value); return false; };
        }
        var getLong = cursor.GetGetter<long>(column);
        long l = 0;
        return () => { getLong(ref l); Long(l); return false; };
    }
}
