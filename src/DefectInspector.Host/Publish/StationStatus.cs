using DefectInspector.Host.Hosting;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>The station's status message as things stand: its cameras, its alarms and the model it serves once loaded.</summary>
internal sealed class StationStatus(StationIdentity station, LineModel line, CameraStatusBoard cameras, AlarmBoard alarms, TimeProvider time)
{
    public StatusMessage Now() => new()
    {
        State = StationStates.Online,
        Site = station.Site,
        Line = station.Line,
        Station = station.Station,
        At = time.GetUtcNow(),
        Version = ProductVersion.Current,
        Model = line.Reference,
        ConfigHash = line.IsLoaded ? line.Descriptor.ConfigHash : null,
        Cameras = cameras.States,
        Alarms = alarms.Current,
    };
}
