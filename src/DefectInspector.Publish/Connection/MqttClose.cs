namespace DefectInspector.Publish.Connection;

/// <summary>How <see cref="MqttConnection.CloseAsync"/> ended.</summary>
internal enum MqttClose
{
    /// <summary>There was no connection to close.</summary>
    NotConnected,

    /// <summary>Farewell sent and disconnected normally: the broker dropped the Will.</summary>
    Clean,

    /// <summary>The connection failed while closing: the broker sends the Will.</summary>
    Unclean,
}
