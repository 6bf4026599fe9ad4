using System.Net.Sockets;
using System.Security.Authentication;
using MQTTnet;
using MQTTnet.Exceptions;

namespace DefectInspector.Publish.Connection;

/// <summary>Sorting and wording the ways an MQTT connection fails.</summary>
internal static class MqttFailures
{
    /// <summary>A failure of the connection itself (as opposed to a bug or a refusal): worth waiting out.</summary>
    public static bool IsConnectionProblem(Exception e) =>
        e is MqttCommunicationException or OperationCanceledException or ObjectDisposedException or IOException or SocketException or TimeoutException;

    /// <summary>Why a connection failed, for people: refused, not authorised, TLS, timeout.</summary>
    public static string Describe(Exception? e)
    {
        if (e is null)
        {
            return "unknown error";
        }

        if (e is BrokerRefusedException refused)
        {
            string code = refused.ResultCode switch
            {
                MqttClientConnectResultCode.BadUserNameOrPassword => "not authorised: bad user name or password",
                MqttClientConnectResultCode.NotAuthorized => "not authorised",
                MqttClientConnectResultCode.ClientIdentifierNotValid => "client id refused",
                MqttClientConnectResultCode.Banned => "not authorised: banned",
                MqttClientConnectResultCode.UnsupportedProtocolVersion => "the broker does not speak MQTT 5",
                var other => $"refused by the broker ({other})",
            };
            return string.IsNullOrEmpty(refused.ReasonString) ? code : $"{code}: {refused.ReasonString}";
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case AuthenticationException tls:
                    return $"TLS failure: {tls.Message}{(tls.InnerException is { } cause ? $" ({cause.Message})" : "")}";
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused (is the broker running and listening there?)",
                        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host not found",
                        SocketError.TimedOut => "timed out",
                        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
                        _ => socket.Message,
                    };
                case TimeoutException or MqttCommunicationTimedOutException:
                    return $"timed out ({inner.Message})";
            }
        }

        return e.Message;
    }
}
