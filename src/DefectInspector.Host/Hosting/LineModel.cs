using DefectInspector.Host.Health;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Publish;
using DefectInspector.Inference.Engine;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// The model the line serves and what follows from it: the inspector, the station's descriptor and the message
/// composer. Loading takes seconds (minutes for the demo's first start), so it is filled when <see cref="ModelService"/>
/// starts, and the stages that start after it read it.
/// </summary>
internal sealed class LineModel
{
    private Loaded? loaded;

    public bool IsLoaded => loaded is not null;

    public IInferenceEngine Engine => Value.Engine;

    public FrameInspector Inspector => Value.Inspector;

    public ServingModel Serving => Value.Serving;

    public StationConfigMessage Descriptor => Value.Descriptor;

    public MessageComposer Composer => Value.Composer;

    /// <summary>The model's identity once loaded; null before, which the first status message says.</summary>
    public ModelReference? Reference => loaded?.Serving.Reference;

    public void Set(IInferenceEngine engine, FrameInspector inspector, ServingModel serving, StationConfigMessage descriptor, MessageComposer composer) =>
        loaded = new Loaded(engine, inspector, serving, descriptor, composer);

    private Loaded Value => loaded ?? throw new InvalidOperationException("The model is read before the model service has loaded it.");

    private sealed record Loaded(IInferenceEngine Engine, FrameInspector Inspector, ServingModel Serving, StationConfigMessage Descriptor, MessageComposer Composer);
}
