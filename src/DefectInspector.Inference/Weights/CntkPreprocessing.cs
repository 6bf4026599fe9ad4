using DefectInspector.Core.Imaging;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// Reads ML.NET's ResNetPreprocess.onnx (Split the image into colour planes, Concat them in the network's
/// order, Sub a mean image) and expresses it as a <see cref="Core.Imaging.Preprocessing"/>.
/// </summary>
internal sealed record CntkPreprocessing(Preprocessing Preprocessing, float MeanImageMaxDeviation, string Path, string Sha256)
{
    public const string Role = "CNTK ResNet preprocessing ONNX model";

    /// <param name="width">The trunk's input width; the mean image must have the same size.</param>
    /// <param name="height">The trunk's input height.</param>
    public static CntkPreprocessing Read(string path, long width, long height)
    {
        var graph = OnnxGraph.Load(path, Role);
        var input = graph.DataInput();
        long[] inputShape = graph.StaticShape(input);
        long[] expectedShape = [1, 3, height, width];
        if (!inputShape.SequenceEqual(expectedShape))
            throw graph.Unexpected($"input '{input.Name}' of shape {OnnxGraph.Join(expectedShape)} (the trunk's input)", OnnxGraph.Join(inputShape));

        var split = graph.SingleConsumer(input.Name, "Split", "the split into colour planes");
        if (OnnxGraph.Int(split, "axis", 0) != 1 || split.Output.Count != 3
            || !OnnxGraph.Ints(split, "split", [1, 1, 1]).SequenceEqual([1L, 1L, 1L]))
            throw graph.Unexpected("a Split along axis 1 into three single-channel planes", OnnxGraph.Describe(split));

        // The file states the input's channel order only through these output names (RInp, GInp, BInp);
        // they agree with ML.NET's pixel extractor, which feeds this graph red, green, blue.
        var inputOrder = split.Output.Select(ColourOf).ToList();
        if (inputOrder.Contains('?') || inputOrder.Distinct().Count() != 3)
            throw graph.Unexpected("Split outputs named after their colour plane (R..., G..., B...)", string.Join(", ", split.Output));

        var concat = graph.SingleConsumer(split.Output[0], "Concat", "the planes reassembled in the network's channel order");
        if (OnnxGraph.Int(concat, "axis", 0) != 1 || concat.Input.Count != 3 || !concat.Input.OrderBy(s => s).SequenceEqual(split.Output.OrderBy(s => s))
            || split.Output.Any(o => graph.Consumers(o).Count != 1))
            throw graph.Unexpected("one Concat along axis 1 of exactly the three Split outputs", OnnxGraph.Describe(concat));
        string networkOrder = new(concat.Input.Select(ColourOf).ToArray());
        var channelOrder = networkOrder switch
        {
            "RGB" => ChannelOrder.Rgb,
            "BGR" => ChannelOrder.Bgr,
            _ => throw graph.Unexpected("the planes concatenated as RGB or BGR", networkOrder),
        };

        var sub = graph.SingleConsumer(concat.Output[0], "Sub", "the mean-image subtraction");
        if (sub.Input.Count != 2 || sub.Input[0] != concat.Output[0] || !graph.IsInitializer(sub.Input[1]) || !graph.IsGraphOutput(sub.Output[0]))
            throw graph.Unexpected("Sub(concatenated image, stored mean image) producing the graph output", OnnxGraph.Describe(sub));
        float[] meanImage = graph.ReadFloats(sub.Input[1], out long[] meanShape);
        if (!meanShape.SequenceEqual(expectedShape))
            throw graph.Unexpected($"a mean image of shape {OnnxGraph.Join(expectedShape)}", OnnxGraph.Join(meanShape));

        // The CNTK model was trained on 0-255 pixels minus a per-pixel mean image; Preprocessing can only
        // subtract one value per channel, so each plane's average stands in for it. In ML.NET 0.23.1's file the
        // mean image stays within 12.74 (blue), 10.30 (green), 6.38 (red) grey levels of its plane average
        // (RMS 5.95, 4.94, 3.27), i.e. at most 5% of the 0-255 range; MeanImageMaxDeviation reports it per file.
        long plane = width * height;
        var mean = new float[3];
        float deviation = 0;
        for (int c = 0; c < 3; c++)
        {
            var values = meanImage.AsSpan((int)(c * plane), (int)plane);
            double sum = 0;
            foreach (float v in values) sum += v;
            double average = sum / plane;
            foreach (float v in values) deviation = Math.Max(deviation, (float)Math.Abs(v - average));
            mean[c] = (float)(average / 255.0);
        }

        // Preprocessing scales pixels to [0,1] before (p - Mean) / Std; Std = 1/255 restores the 0-255 range the trunk was trained on.
        const float std = 1f / 255f;
        var preprocessing = new Preprocessing((int)width, (int)height, channelOrder, mean, [std, std, std]);
        preprocessing.Validate();
        return new CntkPreprocessing(preprocessing, deviation, graph.Path, graph.Sha256);
    }

    private static char ColourOf(string planeName)
    {
        char c = planeName.Length > 0 ? char.ToUpperInvariant(planeName[0]) : '?';
        return c is 'R' or 'G' or 'B' ? c : '?';
    }
}
