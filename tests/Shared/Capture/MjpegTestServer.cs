using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DefectInspector.Tests.Shared;

/// <summary>An IP camera's MJPEG endpoint on loopback: one JPEG, sent again and again as multipart/x-mixed-replace.</summary>
public sealed class MjpegTestServer : IDisposable
{
    private const string Boundary = "frameboundary";

    private readonly byte[] _jpeg;
    private readonly TimeSpan _interval;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private volatile bool _hung;

    public MjpegTestServer(byte[] jpeg, double fps)
    {
        _jpeg = jpeg;
        _interval = TimeSpan.FromSeconds(1 / fps);
        _listener.Start();
        _ = Task.Run(() => Loopback.Receive(_listener.AcceptTcpClientAsync, Accept, _stop.Token));
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/stream.mjpg";

    /// <summary>The request lines clients sent, e.g. "GET /stream.mjpg HTTP/1.1".</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Keeps every connection open but sends nothing more, as a camera whose encoder has locked up.</summary>
    public void Hang() => _hung = true;

    /// <summary>Sends frames again, on every connection, as a camera whose encoder came back.</summary>
    public void Resume() => _hung = false;

    /// <summary>Closes every connection and stops listening, as a camera that is switched off.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients)
                client.Dispose();
        }
    }

    public void Dispose() => Stop();

    private void Accept(TcpClient client)
    {
        lock (_clients)
            _clients.Add(client);
        _ = Task.Run(() => Serve(client));
    }

    private async Task Serve(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            using (var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true))
            {
                var requestLine = await reader.ReadLineAsync(_stop.Token);
                lock (Requests)
                    Requests.Add(requestLine ?? "");
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token)))
                {
                }
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={Boundary}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"), _stop.Token);
            while (!_stop.IsCancellationRequested)
            {
                if (_hung)
                {
                    await Task.Delay(_interval, _stop.Token);
                    continue;
                }
                var partHeader = $"--{Boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {_jpeg.Length}\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(partHeader), _stop.Token);
                await stream.WriteAsync(_jpeg, _stop.Token);
                await stream.WriteAsync("\r\n"u8.ToArray(), _stop.Token);
                await Task.Delay(_interval, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client left or the server stopped.
        }
        finally
        {
            client.Dispose();
        }
    }
}
