using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

public sealed class ExplainerTests(ITestOutputHelper output) : IDisposable
{
    private readonly GapResNet model = TestModels.Random(Architecture.ResNet18, classes: 2, seed: 7);

    public void Dispose() => model.Dispose();

    [Fact]
    public void Cam_spatial_mean_plus_bias_equals_the_logit()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 1, n: 2, size: 96);
        foreach (int target in new[] { 0, 1 })
        {
            var result = new Cam().Explain(model, input, new ExplainRequest(TargetClass: target));
            float bias = model.ClassBias[target].item<float>();
            for (int i = 0; i < 2; i++)
            {
                float mean = result.Heatmaps[i].Raw.Values.Average();
                Assert.Equal(result.Logits[i][target], mean + bias, 4);
            }
        }
    }

    [Fact]
    public void Cam_raw_map_is_the_head_weights_times_the_features()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 2, n: 1, size: 64);
        var features = Features(input, 4);
        var w = model.ClassWeights.detach()[1].data<float>().ToArray();
        var expected = HandMap(features, (k, _) => w[k]);
        var raw = new Cam().Explain(model, input, new ExplainRequest(TargetClass: 1)).Heatmaps[0].Raw;
        AssertClose(expected, raw.Values, 1e-4);
    }

    [Fact]
    public void Cam_at_stride_16_is_the_dilated_features_map_placed_on_the_stride_32_grid()
    {
        using var scope = NewDisposeScope();
        using var dense = model.AtOutputStride(16);
        dense.eval();
        var input = TestModels.Input(seed: 2, n: 1, size: 64);
        Tensor features;
        using (no_grad())
            features = dense.Features(input, 0, GapResNet.LastStage);
        var w = dense.ClassWeights.detach()[1].data<float>().ToArray();
        var unplaced = HandMap(features, (k, _) => w[k]);
        using var placed = dense.PlaceLastStageMaps(tensor(unplaced.Select(v => (float)v).ToArray(), [1, 4, 4]));

        var raw = new Cam().Explain(dense, input, new ExplainRequest(TargetClass: 1)).Heatmaps[0].Raw;

        Assert.Equal((4, 4), (raw.Width, raw.Height));
        AssertClose(placed.data<float>().Select(v => (double)v).ToArray(), raw.Values, 1e-4);
        Assert.Contains(unplaced.Zip(raw.Values), p => Math.Abs(p.First - p.Second) > 1e-3);
    }

    [Fact]
    public void Location_logits_are_each_class_cam_plus_its_bias_and_average_to_the_logits()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 3, n: 2, size: 96);
        var output = model.Run(input);
        var locations = model.LocationLogits(output.Features);
        Assert.Equal(new long[] { 2, 2, output.Features.shape[2], output.Features.shape[3] }, locations.shape);
        Assert.True(locations.mean([2L, 3L]).allclose(output.Logits, rtol: 1e-4, atol: 1e-4), "the spatial mean of the location logits is the logits");
        var cam = new Cam().Explain(model, input, new ExplainRequest(TargetClass: 1)).Heatmaps[1].Raw;
        float bias = model.ClassBias[1].item<float>();
        var expected = cam.Values.Select(v => (double)(v + bias)).ToArray();
        AssertClose(expected, locations[1, 1].contiguous().data<float>().ToArray(), 1e-4);
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("gradcam++")]
    [InlineData("layercam")]
    public void Closed_form_gradients_equal_autograd_at_the_last_layer(string method)
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 3, n: 2, size: 96);
        var request = new ExplainRequest(GoodClass: 0);
        var closed = CamMethods.Create(method, closedFormGradients: true).Explain(model, input, request);
        var autograd = CamMethods.Create(method, closedFormGradients: false).Explain(model, input, request);
        double maxDiff = 0;
        for (int i = 0; i < 2; i++)
        {
            var a = closed.Heatmaps[i].Raw.Values;
            var b = autograd.Heatmaps[i].Raw.Values;
            maxDiff = Math.Max(maxDiff, a.Zip(b, (x, y) => Math.Abs(x - y)).Max());
            Assert.True(b.Any(v => v != 0f), "the autograd map should not be all zero");
        }
        output.WriteLine($"{method}: closed form vs autograd max abs difference {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-5, $"{method}: max abs difference {maxDiff}");
    }

    [Fact]
    public void Gradcam_plus_plus_matches_a_hand_computation()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 4, n: 1, size: 64);
        var a = Features(input, 4);
        int h = (int)a.shape[2], wdt = (int)a.shape[3], channels = (int)a.shape[1];
        var w = model.ClassWeights.detach()[1].data<float>().ToArray();
        var values = a.data<float>().ToArray();
        var weights = new double[channels];
        for (int k = 0; k < channels; k++)
        {
            double g = w[k] / (double)(h * wdt);
            double sum = 0;
            for (int p = 0; p < h * wdt; p++) sum += values[k * h * wdt + p];
            double alpha = g == 0 ? 0 : g * g / (2 * g * g + sum * g * g * g + 1e-6);
            weights[k] = h * wdt * Math.Max(g, 0) * alpha;
        }
        var expected = HandMap(a, (k, _) => weights[k]);
        var raw = new GradCamPlusPlus().Explain(model, input, new ExplainRequest(TargetClass: 1)).Heatmaps[0].Raw;
        AssertClose(expected, raw.Values, 1e-6);
    }

    [Fact]
    public void Layercam_on_layer3_matches_a_hand_computation_from_autograd()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 5, n: 1, size: 64);
        var a = Features(input, 3).requires_grad_(true);
        var logits = model.Head(model.Features(a, 3, 4));
        var g = torch.autograd.grad([logits[0, 1]], [a])[0];
        var gv = g.data<float>().ToArray();
        int hw = (int)(a.shape[2] * a.shape[3]);
        var expected = HandMap(a.detach(), (k, p) => Math.Max(gv[k * hw + p], 0f));
        var heatmap = new LayerCam().Explain(model, input, new ExplainRequest("layer3", TargetClass: 1)).Heatmaps[0];
        Assert.Equal("layer3", heatmap.Layer);
        Assert.Equal(4, heatmap.Raw.Width);
        AssertClose(expected, heatmap.Raw.Values, 1e-5);
    }

    [Fact]
    public void Gradcam_on_layer3_uses_mean_gradients()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 6, n: 1, size: 64);
        var a = Features(input, 3).requires_grad_(true);
        var logits = model.Head(model.Features(a, 3, 4));
        var g = torch.autograd.grad([logits[0, 0]], [a])[0].mean([2L, 3L]).flatten().data<float>().ToArray();
        var expected = HandMap(a.detach(), (k, _) => g[k]);
        var raw = new GradCam().Explain(model, input, new ExplainRequest("layer3", TargetClass: 0)).Heatmaps[0].Raw;
        AssertClose(expected, raw.Values, 1e-5);
    }

    /// <summary>
    /// One unbatched pass over the channels gives both scores' reference (hundreds of forward passes, so once), each
    /// checked against batches of 48 and of the default size.
    /// </summary>
    [Fact]
    public void Scorecam_matches_an_unbatched_channel_by_channel_computation()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 8, n: 1, size: 64);
        var a = Features(input, 4)[0];
        long channels = a.shape[0];
        var logitScores = new float[channels];
        var marginScores = new float[channels];
        using (no_grad())
        {
            for (long k = 0; k < channels; k++)
            {
                using var s = NewDisposeScope();
                var up = nn.functional.interpolate(a[k].unsqueeze(0).unsqueeze(0), [64L, 64L], mode: InterpolationMode.Bilinear, align_corners: true);
                var mask = (up - up.min()) / (up.max() - up.min() + 1e-8);
                var logits = model.call(input * mask);
                logitScores[k] = logits[0, 1].item<float>();
                // The margin scores a masked input by the target's logit less the good class's.
                marginScores[k] = (logits[0, 1] - logits[0, 0]).item<float>();
            }
        }

        // At 64 px layer4 is 2x2: many channels share a normalised map (one hot cell), which Score-CAM scores once.
        var normalised = Enumerable.Range(0, (int)channels).Select(k =>
        {
            var m = a[k].flatten().data<float>().ToArray();
            float lo = m.Min(), hi = m.Max();
            return hi > lo ? string.Join(",", m.Select(v => (v - lo) / (hi - lo))) : null;
        }).Where(m => m is not null).ToList();
        Assert.True(normalised.Distinct().Count() < normalised.Count, "no two channels share a mask: the test would not cover the scored-once path");

        foreach (var (score, scores) in new[] { (MapScore.Logit, logitScores), (MapScore.Margin, marginScores) })
        {
            var expected = Expected(scores);
            var raw = new ScoreCam { PerturbationBatchSize = 48 }.Explain(model, input, new ExplainRequest(TargetClass: 1, GoodClass: 0, Score: score)).Heatmaps[0].Raw;
            AssertClose(expected, raw.Values, 1e-4);
            var small = new ScoreCam().Explain(model, input, new ExplainRequest(TargetClass: 1, GoodClass: 0, Score: score)).Heatmaps[0].Raw;
            AssertClose(expected, small.Values, 1e-4);
        }

        double[] Expected(float[] scores)
        {
            double max = scores.Max();
            var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
            double sum = exp.Sum();
            return HandMap(a.unsqueeze(0), (k, _) => exp[k] / sum);
        }
    }

    [Fact]
    public void Scorecam_stops_when_cancelled()
    {
        using var scope = NewDisposeScope();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var input = TestModels.Input(seed: 9, n: 1, size: 64);
        Assert.ThrowsAny<OperationCanceledException>(() => new ScoreCam().Explain(model, input, new ExplainRequest(), cts.Token));
    }

    [Fact]
    public void Default_target_is_the_likeliest_defect_class_and_without_a_good_class_the_prediction()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 10, n: 3, size: 64);
        var goodFirst = new Cam().Explain(model, input, new ExplainRequest(GoodClass: 0));
        Assert.All(goodFirst.Heatmaps, h => Assert.Equal(1, h.TargetClass));
        var goodSecond = new Cam().Explain(model, input, new ExplainRequest(GoodClass: 1));
        Assert.All(goodSecond.Heatmaps, h => Assert.Equal(0, h.TargetClass));

        using var multi = TestModels.Random(Architecture.ResNet18, classes: 4, seed: 11);
        var predicted = new Cam().Explain(multi, input, new ExplainRequest(GoodClass: -1));
        for (int i = 0; i < 3; i++)
            Assert.Equal(Array.IndexOf(predicted.Logits[i], predicted.Logits[i].Max()), predicted.Heatmaps[i].TargetClass);
        var likeliestDefect = new Cam().Explain(multi, input, new ExplainRequest(GoodClass: 2));
        for (int i = 0; i < 3; i++)
        {
            var logits = likeliestDefect.Logits[i];
            int expected = Enumerable.Range(0, 4).Where(c => c != 2).MaxBy(c => logits[c]);
            Assert.Equal(expected, likeliestDefect.Heatmaps[i].TargetClass);
        }
        var asked = new Cam().Explain(multi, input, new ExplainRequest(TargetClass: 2));
        Assert.All(asked.Heatmaps, h => Assert.Equal(2, h.TargetClass));
    }

    [Fact]
    public void Batched_maps_equal_one_image_at_a_time()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 12, n: 3, size: 64);
        var batched = new GradCamPlusPlus().Explain(model, input, new ExplainRequest(TargetClass: 1));
        for (int i = 0; i < 3; i++)
        {
            var single = new GradCamPlusPlus().Explain(model, input[i].unsqueeze(0), new ExplainRequest(TargetClass: 1));
            AssertClose(single.Heatmaps[0].Raw.Values.Select(v => (double)v).ToArray(), batched.Heatmaps[i].Raw.Values, 1e-5);
        }
    }

    [Theory]
    [InlineData("cam")]
    [InlineData("gradcam")]
    [InlineData("layercam")]
    public void Normalised_map_spans_zero_to_one_at_input_size(string method)
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 13, n: 1, size: 96);
        // The class whose raw map has positive heat somewhere (a map that is all negative normalises to all zero).
        int target = Enumerable.Range(0, 2).First(c => new Cam().Explain(model, input, new ExplainRequest(TargetClass: c)).Heatmaps[0].Raw.Max() > 0);
        var heatmap = CamMethods.Create(method).Explain(model, input, new ExplainRequest(TargetClass: target)).Heatmaps[0];
        Assert.Equal((96, 96), (heatmap.Normalised.Width, heatmap.Normalised.Height));
        Assert.Equal((3, 3), (heatmap.Raw.Width, heatmap.Raw.Height));
        Assert.InRange(heatmap.Normalised.Values.Min(), 0f, 1e-6f);
        // The eps in the min-max keeps a flat map finite; it shaves a little off the peak of small-valued maps.
        Assert.InRange(heatmap.Normalised.Values.Max(), 1f - 1e-3f, 1f);
    }

    [Fact]
    public void Margin_cam_is_the_target_map_less_the_good_map_and_its_mean_is_the_logit_margin()
    {
        using var scope = NewDisposeScope();
        using var kinds = TestModels.Random(Architecture.ResNet18, classes: 4, seed: 21);
        var input = TestModels.Input(seed: 22, n: 2, size: 96);
        var margin = new Cam().Explain(kinds, input, new ExplainRequest(GoodClass: 0, Score: MapScore.Margin));
        for (int i = 0; i < 2; i++)
        {
            int target = margin.Heatmaps[i].TargetClass;
            Assert.NotEqual(0, target);
            var own = new Cam().Explain(kinds, input[i].unsqueeze(0), new ExplainRequest(TargetClass: target)).Heatmaps[0].Raw.Values;
            var good = new Cam().Explain(kinds, input[i].unsqueeze(0), new ExplainRequest(TargetClass: 0)).Heatmaps[0].Raw.Values;
            AssertClose(own.Zip(good, (a, b) => (double)a - b).ToArray(), margin.Heatmaps[i].Raw.Values, 1e-4);
            float bias = kinds.ClassBias[target].item<float>() - kinds.ClassBias[0].item<float>();
            Assert.Equal(margin.Logits[i][target] - margin.Logits[i][0], margin.Heatmaps[i].Raw.Values.Average() + bias, 4);
        }

        // Explaining the good class itself, or a model without one, falls back to the logit.
        var goodItself = new Cam().Explain(kinds, input, new ExplainRequest(TargetClass: 0, GoodClass: 0, Score: MapScore.Margin));
        var goodLogit = new Cam().Explain(kinds, input, new ExplainRequest(TargetClass: 0));
        AssertClose(goodLogit.Heatmaps[0].Raw.Values.Select(v => (double)v).ToArray(), goodItself.Heatmaps[0].Raw.Values, 1e-6);
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("gradcam++")]
    [InlineData("layercam")]
    public void Margin_gradients_in_closed_form_equal_autograd(string method)
    {
        using var scope = NewDisposeScope();
        using var kinds = TestModels.Random(Architecture.ResNet18, classes: 3, seed: 23);
        var input = TestModels.Input(seed: 24, n: 2, size: 96);
        var request = new ExplainRequest(GoodClass: 1, Score: MapScore.Margin);
        var closed = CamMethods.Create(method, closedFormGradients: true).Explain(kinds, input, request);
        var autograd = CamMethods.Create(method, closedFormGradients: false).Explain(kinds, input, request);
        var logit = CamMethods.Create(method).Explain(kinds, input, request with { Score = MapScore.Logit });
        for (int i = 0; i < 2; i++)
        {
            AssertClose(closed.Heatmaps[i].Raw.Values.Select(v => (double)v).ToArray(), autograd.Heatmaps[i].Raw.Values, 1e-5);
            Assert.True(closed.Heatmaps[i].Raw.Values.Zip(logit.Heatmaps[i].Raw.Values).Any(p => Math.Abs(p.First - p.Second) > 1e-3),
                $"{method}: the margin map should differ from the logit map");
        }
    }

    [Theory]
    [InlineData("cam", 4, 32)]
    [InlineData("cam", 2, 32)]
    [InlineData("gradcam++", 4, 32)]
    [InlineData("layercam", 4, 32)]
    // At stride 16 each view's map is placed in its own orientation: placing the merged map instead would not match.
    [InlineData("cam", 4, 16)]
    public void Mirrored_views_average_the_logits_and_the_maps_mirrored_back(string method, int views, int stride)
    {
        using var scope = NewDisposeScope();
        using var strided = TestModels.Random(Architecture.ResNet18, classes: 3, seed: 26);
        using var kinds = strided.AtOutputStride(stride);
        kinds.eval();
        // Non-square and asymmetric, so a map that is not mirrored back (or mirrored on the wrong axis) cannot match.
        manual_seed(27);
        var input = randn(2, 3, 96, 64);
        var request = new ExplainRequest(GoodClass: 0, Score: MapScore.Margin, Views: views);
        var merged = CamMethods.Create(method).Explain(kinds, input, request);

        long[][] flips = [[], [3], [2], [2, 3]];
        for (int i = 0; i < 2; i++)
        {
            var image = input[i].unsqueeze(0);
            var logits = new double[3];
            foreach (var f in flips.Take(views))
            {
                var view = f.Length == 0 ? image : image.flip(f);
                var one = CamMethods.Create(method).Explain(kinds, view, request with { Views = 1 });
                for (int c = 0; c < 3; c++) logits[c] += one.Logits[0][c] / views;
            }
            Assert.Equal(logits.Select(v => (float)v), merged.Logits[i], (a, b) => Math.Abs(a - b) < 1e-4);
            int target = merged.Heatmaps[i].TargetClass;

            var expected = new double[merged.Heatmaps[i].Raw.Values.Length];
            foreach (var f in flips.Take(views))
            {
                var view = f.Length == 0 ? image : image.flip(f);
                var raw = CamMethods.Create(method).Explain(kinds, view, request with { Views = 1, TargetClass = target }).Heatmaps[0].Raw;
                using var map = tensor(raw.Values, [raw.Height, raw.Width]);
                var back = f.Length == 0 ? map : map.flip(f.Select(d => d - 2).ToArray());
                var values = back.contiguous().data<float>().ToArray();
                for (int p = 0; p < values.Length; p++) expected[p] += values[p] / views;
            }
            AssertClose(expected, merged.Heatmaps[i].Raw.Values, 1e-4);
            Assert.Equal((64, 96), (merged.Heatmaps[i].Normalised.Width, merged.Heatmaps[i].Normalised.Height));
        }
        Assert.Contains("views 3", Assert.Throws<ArgumentException>(() => new Cam().Explain(kinds, input, request with { Views = 3 })).Message);
    }

    [Fact]
    public void Fused_layercam_matches_per_layer_maps_fused_by_the_papers_rule()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 15, n: 1, size: 64);
        // Each layer's LayerCAM map on its own, from its own backward pass.
        var perLayer = new[] { 2, 3, 4 }.Select(stage =>
        {
            var a = Features(input, stage).requires_grad_(true);
            var logits = model.Head(stage == 4 ? a : model.Features(a, stage, 4));
            var g = torch.autograd.grad([logits[0, 0]], [a])[0].data<float>().ToArray();
            int hw = (int)(a.shape[2] * a.shape[3]);
            return (Map: HandMap(a.detach(), (k, p) => Math.Max(g[k * hw + p], 0f)), Side: (int)a.shape[2]);
        }).ToList();
        // The rule: each map over its peak, tanh(2 x) for the shallower ones, bilinear to 64 x 64, element-wise max,
        // times the deepest map's peak.
        var expected = new double[64 * 64];
        for (int l = 0; l < perLayer.Count; l++)
        {
            var (map, side) = perLayer[l];
            double peak = map.Max();
            var scaled = map.Select(v => l == perLayer.Count - 1 ? v / peak : Math.Tanh(2 * v / peak)).ToArray();
            var resized = Bilinear(scaled, side, 64);
            for (int p = 0; p < expected.Length; p++) expected[p] = Math.Max(expected[p], resized[p]);
        }
        double deepPeak = perLayer[^1].Map.Max();
        for (int p = 0; p < expected.Length; p++) expected[p] *= deepPeak;

        var heatmap = new LayerCam().Explain(model, input, new ExplainRequest("layer2,layer3,layer4", TargetClass: 0)).Heatmaps[0];

        Assert.Equal("layer2,layer3,layer4", heatmap.Layer);
        Assert.Equal((64, 64), (heatmap.Raw.Width, heatmap.Raw.Height));
        double error = MaxRelativeError(expected, heatmap.Raw.Values);
        output.WriteLine($"fused layercam vs hand fusion: max error {error:E2} of the peak");
        Assert.True(error <= 1e-4, $"max error {error} of the peak");
        // The shallow layers show: the fused map is not the deepest layer's map resized.
        var deepOnly = Bilinear(perLayer[^1].Map, perLayer[^1].Side, 64);
        double fromDeep = MaxRelativeError(deepOnly, heatmap.Raw.Values);
        output.WriteLine($"fused vs layer4 alone: max difference {fromDeep:E2} of the peak");
        Assert.True(fromDeep > 1e-2, "the fused map should differ from layer4's alone");
    }

    [Fact]
    public void Guided_gradcam_is_the_upsampled_gradcam_times_a_hand_guided_backpropagation()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 16, n: 1, size: 64);
        var a = Features(input, 4);
        int side = (int)a.shape[2];
        var w = model.ClassWeights.detach()[1].data<float>().ToArray();
        var gradCam = HandMap(a, (k, _) => w[k] / (double)(side * side));
        var coarse = Bilinear(gradCam, side, 64);
        var guided = HandGuidedSaliency(input, w, guidedRelus: true);
        var expected = coarse.Zip(guided, (c, s) => c * s).ToArray();

        var heatmap = new GuidedGradCam().Explain(model, input, new ExplainRequest(TargetClass: 1)).Heatmaps[0];

        Assert.Equal("guided-gradcam", heatmap.Method);
        Assert.Equal((64, 64), (heatmap.Raw.Width, heatmap.Raw.Height));
        Assert.Equal((64, 64), (heatmap.Normalised.Width, heatmap.Normalised.Height));
        double error = MaxRelativeError(expected, heatmap.Raw.Values);
        output.WriteLine($"guided gradcam vs hand computation: max error {error:E2} of the peak");
        Assert.True(error <= 1e-4, $"max error {error} of the peak");
        // Plain backpropagation through the same walk gives another map: the guided ReLUs matter.
        var plain = coarse.Zip(HandGuidedSaliency(input, w, guidedRelus: false), (c, s) => c * s).ToArray();
        double fromPlain = MaxRelativeError(plain, heatmap.Raw.Values);
        output.WriteLine($"guided vs plain backpropagation: max difference {fromPlain:E2} of the peak");
        Assert.True(fromPlain > 1e-2, "guided and plain backpropagation should differ");
    }

    [Fact]
    public void Guided_gradcam_autograd_and_closed_form_gradcam_agree_with_mirrored_views()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 17, n: 2, size: 64);
        var request = new ExplainRequest(GoodClass: 0, Score: MapScore.Margin, Views: 2);
        var closed = CamMethods.Create("guided-gradcam").Explain(model, input, request);
        var autograd = CamMethods.Create("guided-gradcam", closedFormGradients: false).Explain(model, input, request);
        for (int i = 0; i < 2; i++)
        {
            double error = MaxRelativeError(closed.Heatmaps[i].Raw.Values.Select(v => (double)v).ToArray(), autograd.Heatmaps[i].Raw.Values);
            Assert.True(error <= 1e-4, $"image {i}: max error {error} of the peak");
        }
    }

    [Fact]
    public void Unknown_method_layer_or_class_is_refused_by_name()
    {
        using var scope = NewDisposeScope();
        var input = TestModels.Input(seed: 14, n: 1, size: 64);
        Assert.Contains("'gradcam2'", Assert.Throws<ArgumentException>(() => CamMethods.Create("gradcam2")).Message);
        Assert.Contains("'layer5'", Assert.Throws<ArgumentException>(() => new GradCam().Explain(model, input, new ExplainRequest("layer5"))).Message);
        Assert.Contains("layer3", Assert.Throws<ArgumentException>(() => new Cam().Explain(model, input, new ExplainRequest("layer3"))).Message);
        Assert.Contains("target class 5", Assert.ThrowsAny<ArgumentException>(() => new Cam().Explain(model, input, new ExplainRequest(TargetClass: 5))).Message);
        Assert.Contains("layercam fuses", Assert.Throws<ArgumentException>(() => new GradCam().Explain(model, input, new ExplainRequest("layer3,layer4"))).Message);
        Assert.Contains("each layer once", Assert.Throws<ArgumentException>(() => new LayerCam().Explain(model, input, new ExplainRequest("layer3,layer3"))).Message);
    }

    private Tensor Features(Tensor input, int stage)
    {
        model.eval();
        using var _ = no_grad();
        return model.Features(input, 0, stage);
    }

    /// <summary>sum_k weight(k, position) * A[0, k, position], by plain loops.</summary>
    private static double[] HandMap(Tensor activations, Func<int, int, double> weight)
    {
        int channels = (int)activations.shape[1];
        int hw = (int)(activations.shape[2] * activations.shape[3]);
        var a = activations.contiguous().data<float>().ToArray();
        var map = new double[hw];
        for (int k = 0; k < channels; k++)
            for (int p = 0; p < hw; p++)
                map[p] += weight(k, p) * a[k * hw + p];
        return map;
    }

    /// <summary>
    /// Guided backpropagation of the target logit by a walk through the ResNet-18 written out here: the head's gradient
    /// in closed form, then each block backwards, every ReLU passing relu(gradient) where its input was positive
    /// (<paramref name="guidedRelus"/>) or the plain gradient; the linear pieces (conv + BN, max pooling) by autograd.
    /// Returns per pixel the largest absolute gradient over the colour channels.
    /// </summary>
    private double[] HandGuidedSaliency(Tensor input, float[] classWeights, bool guidedRelus)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Tensor Run(string name, Tensor x) => ((nn.Module<Tensor, Tensor>)modules[name]).call(x);
        Tensor Relu(Tensor pre, Tensor gradient) =>
            guidedRelus ? gradient.clamp_min(0) * pre.gt(0) : gradient * pre.gt(0);
        static Tensor Back(Func<Tensor, Tensor> piece, Tensor at, Tensor gradient)
        {
            var x = at.detach().requires_grad_(true);
            using var _ = enable_grad();
            return torch.autograd.grad([(piece(x) * gradient).sum()], [x])[0];
        }

        using var noGrad = no_grad();
        var stemPre = Run("bn1", Run("conv1", input));
        var stemOut = stemPre.relu();
        var x = Run("maxpool", stemOut);
        var blocks = new List<(string Name, Tensor In, Tensor Pre1, Tensor Pre2)>();
        foreach (string stage in Layers.Names)
        {
            for (int b = 0; modules.ContainsKey($"{stage}.{b}"); b++)
            {
                string name = $"{stage}.{b}";
                var pre1 = Run($"{name}.bn1", Run($"{name}.conv1", x));
                var main = Run($"{name}.bn2", Run($"{name}.conv2", pre1.relu()));
                var identity = modules.ContainsKey($"{name}.downsample") ? Run($"{name}.downsample", x) : x;
                var pre2 = main + identity;
                blocks.Add((name, x, pre1, pre2));
                x = pre2.relu();
            }
        }
        // d(logit)/dA4 = w / (h w) at every position (global average pooling, then the linear head).
        var g = tensor(classWeights).view(1, -1, 1, 1).expand_as(x) / (x.shape[2] * x.shape[3]);
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            var (name, blockIn, pre1, pre2) = blocks[i];
            var gPre2 = Relu(pre2, g);
            var gPre1 = Relu(pre1, Back(t => Run($"{name}.bn2", Run($"{name}.conv2", t)), pre1.relu(), gPre2));
            var gMain = Back(t => Run($"{name}.bn1", Run($"{name}.conv1", t)), blockIn, gPre1);
            var gIdentity = modules.ContainsKey($"{name}.downsample") ? Back(t => Run($"{name}.downsample", t), blockIn, gPre2) : gPre2;
            g = gMain + gIdentity;
        }
        var gStem = Relu(stemPre, Back(t => Run("maxpool", t), stemOut, g));
        var gInput = Back(t => Run("bn1", Run("conv1", t)), input, gStem);
        return gInput.abs().amax([1L]).flatten().data<float>().Select(v => (double)v).ToArray();
    }

    /// <summary>A square map <paramref name="side"/> x <paramref name="side"/> resized to <paramref name="size"/> by bilinear interpolation with half-pixel centres, by plain loops.</summary>
    private static double[] Bilinear(double[] map, int side, int size)
    {
        double At(int y, int x) => map[y * side + x];
        var result = new double[size * size];
        for (int y = 0; y < size; y++)
        {
            double sy = Math.Max((y + 0.5) * side / size - 0.5, 0);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, side - 1);
            double fy = sy - y0;
            for (int x = 0; x < size; x++)
            {
                double sx = Math.Max((x + 0.5) * side / size - 0.5, 0);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, side - 1);
                double fx = sx - x0;
                result[y * size + x] = (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x1)) + fy * ((1 - fx) * At(y1, x0) + fx * At(y1, x1));
            }
        }
        return result;
    }

    /// <summary>The largest |expected - actual| as a share of the largest |expected|: for maps whose units are far from 1.</summary>
    private static double MaxRelativeError(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0, "the expected map should not be all zero");
        return expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale;
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Contains(expected, v => v != 0);
        double scale = Math.Max(1.0, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"at {i}: expected {expected[i]}, got {actual[i]}");
    }
}
