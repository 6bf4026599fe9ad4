using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DefectInspector.Tests.Shared;

/// <summary>An IP camera's MJPEG endpoint on loopback: one JPEG, sent again and again as multipart/x-mixed-replace.</summary>
public sealed class MjpegTestServer : IDisposable
{
    private const string Boundary = "frameboundary";

    private readonly byte[] jpeg;
    private readonly TimeSpan interval;
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly List<TcpClient> clients = [];
    private volatile bool hung;

    public MjpegTestServer(byte[] jpeg, double fps)
    {
        this.jpeg = jpeg;
        interval = TimeSpan.FromSeconds(1 / fps);
        listener.Start();
        _ = Task.Run(() => Loopback.Receive(listener.AcceptTcpClientAsync, Accept, stop.Token));
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/stream.mjpg";

    /// <summary>The request lines clients sent, e.g. "GET /stream.mjpg HTTP/1.1".</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Keeps every connection open but sends nothing more, as a camera whose encoder has locked up.</summary>
    public void Hang() => hung = true;

    /// <summary>Sends frames again, on every connection, as a camera whose encoder came back.</summary>
    public void Resume() => hung = false;

    /// <summary>Closes every connection and stops listening, as a camera that is switched off.</summary>
    public void Stop()
    {
        stop.Cancel();
        listener.Stop();
        lock (clients)
        {
            foreach (var client in clients)
                client.Dispose();
        }
    }

    public void Dispose() => Stop();

    private void Accept(TcpClient client)
    {
        lock (clients)
            clients.Add(client);
        _ = Task.Run(() => Serve(client));
    }

    private async Task Serve(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            using (var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true))
            {
                var requestLine = await reader.ReadLineAsync(stop.Token);
                lock (Requests)
                    Requests.Add(requestLine ?? "");
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync(stop.Token)))
                {
                }
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={Boundary}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"), stop.Token);
            while (!stop.IsCancellationRequested)
            {
                if (hung)
                {
                    await Task.Delay(interval, stop.Token);
                    continue;
                }
                var partHeader = $"--{Boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(partHeader), stop.Token);
                await stream.WriteAsync(jpeg, stop.Token);
                await stream.WriteAsync("\r\n"u8.ToArray(), stop.Token);
                await Task.Delay(interval, stop.Token);
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
