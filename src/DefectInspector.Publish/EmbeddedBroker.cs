using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace DefectInspector.Publish;

/// <summary>
/// An in-process MQTT 5 broker (MQTTnet.Server) for a station without a site broker: listens on one address only
/// (loopback unless configured otherwise), keeps retained messages and persistent sessions in memory, checks a user
/// name and password when they are set, which it requires as soon as it is reachable from the network, and enforces
/// <see cref="EmbeddedBrokerAccess"/>: only the daemon publishes its results.
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer server;
    private readonly ILogger logger;

    private EmbeddedBroker(MqttServer server, ILogger logger) => (this.server, this.logger) = (server, logger);

    public required IPAddress Address { get; init; }

    /// <summary>The port it listens on (the one chosen by the system when started with port 0).</summary>
    public required int Port { get; init; }

    /// <summary>
    /// Starts listening on <paramref name="bindAddress"/> (an IP address or "localhost") and <paramref name="port"/>.
    /// Throws <see cref="InvalidOperationException"/> with what to change when the address is not loopback and no
    /// credentials are given, or when the port is in use.
    /// </summary>
    public static async Task<EmbeddedBroker> StartAsync(string bindAddress, int port, string? username, string? password, EmbeddedBrokerAccess access, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(access);
        var address = ParseAddress(bindAddress);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "the embedded broker's port must be 0 to 65535");
        }

        bool hasCredentials = (!string.IsNullOrEmpty(username) && !string.IsNullOrEmpty(password)) || access.Users.Count > 0;
        if (!IPAddress.IsLoopback(address) && !hasCredentials)
        {
            throw new InvalidOperationException(
                $"the embedded MQTT broker would listen on {address}, reachable from the network, without a password: " +
                "set Mqtt:Username and Mqtt:Password (or Mqtt:PasswordFile) or Mqtt:EmbeddedUsers, or set Mqtt:EmbeddedBindAddress to 127.0.0.1");
        }

        var builder = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(10_000);
        builder = address.AddressFamily == AddressFamily.InterNetworkV6
            ? builder.WithDefaultEndpointBoundIPV6Address(address).WithDefaultEndpointBoundIPAddress(IPAddress.None)
            : builder.WithDefaultEndpointBoundIPAddress(address).WithDefaultEndpointBoundIPV6Address(IPAddress.None);
        var options = builder.Build();

        var server = new MqttServerFactory().CreateMqttServer(options);
        var reserved = access.ReservedClientIds.ToHashSet(StringComparer.Ordinal);
        byte[]? sharedUser = !string.IsNullOrEmpty(username) && !string.IsNullOrEmpty(password) ? Encoding.UTF8.GetBytes(username) : null;
        byte[]? sharedPassword = sharedUser is not null ? Encoding.UTF8.GetBytes(password!) : null;
        server.ValidatingConnectionAsync += e =>
        {
            // MQTT 5 clients may leave the id to the broker (mosquitto_sub -V mqttv5 does); MQTTnet refuses an empty id
            // unless one is assigned here. MQTT 3.1.1 clients must still bring their own (mosquitto_sub -i NAME).
            if (string.IsNullOrEmpty(e.ClientId))
                e.AssignedClientIdentifier = $"anonymous-{Guid.NewGuid():N}";
            if (DaemonConnection.Presented(e.UserProperties))
            {
                e.SessionItems[RoleItem] = BrokerRoles.Daemon;
                return Task.CompletedTask;
            }
            if (reserved.Contains(e.ClientId))
            {
                e.ReasonCode = MqttConnectReasonCode.NotAuthorized;
                logger.LogWarning("Embedded MQTT broker refused client {ClientId} from {Remote}: that client id is the daemon's own", e.ClientId, e.RemoteEndPoint);
                return Task.CompletedTask;
            }
            string? role = hasCredentials ? RoleOf(e.UserName, e.RawPassword, sharedUser, sharedPassword, access.Users) : BrokerRoles.Trigger;
            if (role is null)
            {
                e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                logger.LogWarning("Embedded MQTT broker refused client {ClientId} from {Remote}: bad user name or password", e.ClientId, e.RemoteEndPoint);
                return Task.CompletedTask;
            }
            e.SessionItems[RoleItem] = role;
            return Task.CompletedTask;
        };

        server.InterceptingPublishAsync += e =>
        {
            string role = e.SessionItems[RoleItem] as string ?? BrokerRoles.Subscriber;
            if (role == BrokerRoles.Daemon) return Task.CompletedTask;
            var message = e.ApplicationMessage;
            // MQTTnet.Server reads a packet whole before this point; dropping it here keeps it out of every queue, the
            // retained store and the daemon's trigger parser, and the sender goes.
            if (message.Payload.Length > access.MaxPacketBytes)
            {
                Refuse(e, MqttPubAckReasonCode.QuotaExceeded, close: true);
                logger.LogWarning("Embedded MQTT broker dropped {Bytes} bytes on {Topic} from {ClientId} and closed its connection: more than {Max} bytes",
                    message.Payload.Length, message.Topic, e.ClientId, access.MaxPacketBytes);
                return Task.CompletedTask;
            }
            bool allowed = role == BrokerRoles.Trigger && (message.Retain
                ? access.PublicRetainedTopics.Any(f => EmbeddedBrokerAccess.Matches(f, message.Topic))
                : access.PublicTopics.Concat(access.PublicRetainedTopics).Any(f => EmbeddedBrokerAccess.Matches(f, message.Topic)));
            if (!allowed)
            {
                Refuse(e, MqttPubAckReasonCode.NotAuthorized, close: false);
                // Once per connection: a client publishing in a loop must not flood the journal.
                if (e.SessionItems[RefusedItem] is null)
                {
                    e.SessionItems[RefusedItem] = true;
                    logger.LogWarning("Embedded MQTT broker refused a {Retained}publish on {Topic} from {ClientId} (role {Role}): only the daemon publishes there; further refusals of this connection are not logged",
                        message.Retain ? "retained " : "", message.Topic, e.ClientId, role);
                }
            }
            return Task.CompletedTask;
        };

        server.ClientConnectedAsync += e =>
        {
            logger.LogDebug("Embedded MQTT broker: client {ClientId} connected from {Remote}", e.ClientId, e.RemoteEndPoint);
            return Task.CompletedTask;
        };

        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied or SocketError.AddressNotAvailable)
        {
            server.Dispose();
            string problem = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "is in use",
                SocketError.AccessDenied => "may not be opened by this user",
                _ => "is not an address of this machine",
            };
            throw new InvalidOperationException($"port {port} on {address} {problem}: set Mqtt:Port or Mqtt:Host", e);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        int boundPort = options.DefaultEndpointOptions.Port;
        logger.LogInformation("Embedded MQTT broker listening on {Address} port {Port}{Auth}", address, boundPort, hasCredentials ? " (user name and password required)" : "");
        return new EmbeddedBroker(server, logger) { Address = address, Port = boundPort };
    }

    public async Task StopAsync()
    {
        if (server.IsStarted)
        {
            await server.StopAsync(new MqttServerStopOptionsBuilder().Build()).ConfigureAwait(false);
            logger.LogInformation("Embedded MQTT broker on {Address} port {Port} stopped", Address, Port);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        server.Dispose();
    }

    private const string RoleItem = "defect-inspector-role";
    private const string RefusedItem = "defect-inspector-refused";

    private static string? RoleOf(string? user, byte[]? password, byte[]? sharedUser, byte[]? sharedPassword, IReadOnlyList<BrokerUser> users)
    {
        byte[] name = Encoding.UTF8.GetBytes(user ?? "");
        if (sharedUser is not null && sharedPassword is not null
            && CryptographicOperations.FixedTimeEquals(name, sharedUser) & CryptographicOperations.FixedTimeEquals(password ?? [], sharedPassword))
            return BrokerRoles.Trigger;
        var configured = users.FirstOrDefault(u => string.Equals(u.Name, user, StringComparison.Ordinal));
        return configured is not null && configured.PasswordMatches(Encoding.UTF8.GetString(password ?? [])) ? configured.Role : null;
    }

    private static void Refuse(InterceptingPublishEventArgs e, MqttPubAckReasonCode reason, bool close)
    {
        e.ProcessPublish = false;
        e.Response.ReasonCode = reason;
        e.CloseConnection = close;
    }

    private static IPAddress ParseAddress(string bindAddress)
    {
        string text = (bindAddress ?? "").Trim();
        if (text.Length == 0 || text.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (text is "*")
        {
            return IPAddress.Any;
        }

        return IPAddress.TryParse(text.Trim('[', ']'), out var address)
            ? address
            : throw new ArgumentException($"the embedded broker's bind address must be an IP address or localhost, not \"{bindAddress}\"", nameof(bindAddress));
    }
}
