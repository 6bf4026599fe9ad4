using DefectInspector.Core.Decision;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Training.Data;
using DefectInspector.Vision.Imaging;
using DefectInspector.Vision.Regions;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Runs a served model over labelled images the way the line would (prediction, map, regions), keeping what
/// the metrics need: the heat projected on the frame and the defect mask.
/// </summary>
public static class Evaluator
{
    public static IReadOnlyList<ImageOutcome> Run(InspectionModel model, IReadOnlyList<LabelledImage> images, CamMethod method, string layer,
        RegionSettings regions, int batchSize, Action<int>? progress, CancellationToken cancellation)
    {
        var outcomes = new List<ImageOutcome>(images.Count);
        var request = model.Request(layer);
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = images.Skip(start).Take(batchSize).ToList();
            var frames = batch.Select(i => ImageReader.Read(i.Path)).ToList();
            try
            {
                Explanation explanation;
                using (var scope = NewDisposeScope())
                    explanation = method.Explain(model.Network, model.ToBatch(frames.Select(f => Preprocessor.Preprocess(f, model.Metadata.Preprocessing)).ToList()), request, cancellation);
                for (int i = 0; i < batch.Count; i++)
                {
                    var prediction = model.Predict(explanation.Logits[i]);
                    var heat = explanation.Heatmaps[i].Raw;
                    var verdict = model.Metadata.Decision.Decide(prediction.DefectScore);
                    var found = verdict.GetsRegions() ? RegionExtractor.Extract(heat, frames[i].Width, frames[i].Height, regions) : [];
                    outcomes.Add(new ImageOutcome(batch[i].Path, batch[i].Kind, batch[i].IsDefect, prediction.DefectScore, prediction.PredictedClassName,
                        found, HeatmapProjection.ToFrame(heat, frames[i].Width, frames[i].Height), ReadMask(batch[i].MaskPath, frames[i].Size())));
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
