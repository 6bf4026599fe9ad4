using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>Who watches the line as it runs: the HMI's live page when Hmi:Url is set, nobody otherwise.</summary>
internal interface ILiveView
{
    /// <summary>Whether someone is watching <paramref name="camera"/> and wants this part's overlay drawn even when OK.</summary>
    bool WantsOverlay(string camera);

    void Decided(VerdictMessage verdict, byte[]? overlay);
}

/// <summary>A station without the HMI draws nothing for a live view.</summary>
internal sealed class NoLiveView : ILiveView
{
    public bool WantsOverlay(string camera) => false;

    public void Decided(VerdictMessage verdict, byte[]? overlay)
    {
    }
}
