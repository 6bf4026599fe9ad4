using DefectInspector.Inference.Inspect;
using DefectInspector.Training.Data;
using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Runs a served model over labelled images the way the line does (the same <see cref="PartInspector"/>), keeping what
/// the metrics need: the heat projected on the frame and the defect mask.
/// </summary>
public static class Evaluator
{
    public static IReadOnlyList<ImageOutcome> Run(PartInspector inspector, IReadOnlyList<LabelledImage> images, int batchSize,
        Action<int>? progress, CancellationToken cancellation)
    {
        var outcomes = new List<ImageOutcome>(images.Count);
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = images.Skip(start).Take(batchSize).ToList();
            var frames = batch.Select(i => ImageReader.Read(i.Path)).ToList();
            try
            {
                var parts = inspector.Inspect(frames, cancellation);
                for (int i = 0; i < batch.Count; i++)
                {
                    var part = parts[i];
                    var heat = part.Heatmap.Raw;
                    outcomes.Add(new ImageOutcome(batch[i].Path, batch[i].Kind, batch[i].IsDefect, part.Prediction.DefectScore, part.Prediction.PredictedClassName,
                        part.Regions, HeatmapProjection.ToFrame(heat, frames[i].Width, frames[i].Height), ReadMask(batch[i].MaskPath, frames[i].Size())));
                }
            }
            finally
            {
                foreach (var f in frames) f.Dispose();
            }
            progress?.Invoke(outcomes.Count);
        }
        return outcomes;
    }

    private static bool[]? ReadMask(string? path, OpenCvSharp.Size frame)
    {
        if (path is null) return null;
        using var mask = DefectMasks.Read(path, frame);
        var bytes = mask.AsSpan<byte>();
        var result = new bool[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) result[i] = bytes[i] != 0;
        return result;
    }
}
