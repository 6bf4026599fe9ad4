namespace DefectInspector.Host.Options;

/// <summary>One entry of the configuration array "Cameras".</summary>
public sealed class CameraOptions
{
    /// <summary>Topic-safe name: letters, digits, '-' and '_'.</summary>
    public string Name { get; set; } = "";

    /// <summary>device:N, rtsp://..., http(s)://..., gst:PIPELINE, file:VIDEO, folder:DIR or virtual.</summary>
    public string Source { get; set; } = "";

    /// <summary>continuous, or mqtt: one frame per trigger command (which carries the part id).</summary>
    public string Trigger { get; set; } = TriggerModes.Continuous;

    /// <summary>At most this many frames per second go to inspection; 0 = as many as the source gives.</summary>
    public double MaxFps { get; set; }

    /// <summary>Region of interest "x,y,width,height" in source pixels; empty = the whole frame.</summary>
    public string Roi { get; set; } = "";

    /// <summary>file: start again at the end.</summary>
    public bool Loop { get; set; } = true;

    /// <summary>file: and virtual: deliver at the native rate; false = as fast as inspection takes them.</summary>
    public bool RealTime { get; set; } = true;

    /// <summary>virtual: parts per second when RealTime.</summary>
    public double VirtualFps { get; set; } = 2;

    /// <summary>folder: subfolder processed files move to; empty = leave them in place and keep a journal.</summary>
    public string ProcessedFolder { get; set; } = "processed";

    /// <summary>
    /// Trigger=mqtt: a trigger that has found no frame this long after it arrived is refused as expired (the part has
    /// left the station); a shorter MQTT message expiry wins. 0 = only the message expiry limits it.
    /// </summary>
    public int TriggerMaxAgeMs { get; set; } = 10_000;

    /// <summary>Trigger=mqtt: at most this many triggers wait for the camera; more are refused as queue-full.</summary>
    public int TriggerQueueCapacity { get; set; } = 16;

    public bool IsTriggered => string.Equals(Trigger, TriggerModes.Mqtt, StringComparison.OrdinalIgnoreCase);
}

public static class TriggerModes
{
    public const string Continuous = "continuous";
    public const string Mqtt = "mqtt";
}

/// <summary>The configuration array "Cameras", bound as one options object so it is validated as a whole.</summary>
public sealed class CamerasOptions
{
    public const string Section = "Cameras";

    public List<CameraOptions> Cameras { get; } = [];
}
