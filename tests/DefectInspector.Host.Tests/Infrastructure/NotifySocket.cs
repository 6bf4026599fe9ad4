using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>What systemd does for Type=notify: a unix datagram socket whose path goes to the service as NOTIFY_SOCKET.</summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource stop = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public NotifySocket(string path)
    {
        Path = path;
        socket.Bind(new UnixDomainSocketEndPoint(path));
        _ = ReceiveAsync();
    }

    public string Path { get; }

    /// <summary>Time since this socket was made, on the clock of <see cref="Received"/>.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Every datagram with the time it arrived since this socket was made.</summary>
    public ConcurrentQueue<(TimeSpan At, string Message)> Received { get; } = new();

    public IReadOnlyList<(TimeSpan At, string Message)> Matching(string state) =>
        Received.Where(r => r.Message.Split('\n').Contains(state)).ToList();

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                Received.Enqueue((clock.Elapsed, Encoding.UTF8.GetString(buffer, 0, n)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        socket.Dispose();
        File.Delete(Path);
    }
}
