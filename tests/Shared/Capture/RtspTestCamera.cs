using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// An RTSP camera on loopback for tests. ffmpeg plays a video in a loop and sends it as RTP/JPEG to a UDP port here;
/// this class answers the RTSP handshake and relays those packets to each playing client over its RTSP connection
/// (interleaved TCP). ffmpeg cannot serve RTSP to a client itself: its rtsp_flags listen only receives a stream.
/// Stopping ffmpeg makes the camera go silent while connections stay up, as a camera that hangs does.
/// </summary>
public sealed class RtspTestCamera : IDisposable
{
    private const int ClientChannel = 0;

    private readonly string video;
    private readonly string sdpFile;
    private readonly TcpListener listener;
    private readonly UdpClient rtp;
    private readonly UdpClient rtcp;
    private readonly List<Client> playing = [];
    private readonly StringBuilder ffmpegErrors = new();
    private readonly CancellationTokenSource stop = new();
    private Process? ffmpeg;
    private long packets;

    public RtspTestCamera(string video, string workFolder)
    {
        this.video = video;
        sdpFile = Path.Combine(workFolder, "camera.sdp");
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        rtp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        rtcp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _ = Task.Run(() => Loopback.Receive(listener.AcceptTcpClientAsync, c => Task.Run(() => Serve(new Client(c))), stop.Token));
        _ = Task.Run(() => Loopback.Receive(rtp.ReceiveAsync, Relay, stop.Token));
        _ = Task.Run(() => Loopback.Receive(rtcp.ReceiveAsync, _ => { }, stop.Token));
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>The camera's address, with user info when given (the camera asks for no credentials).</summary>
    public string Url(string? userInfo = null) => $"rtsp://{(userInfo is null ? "" : userInfo + "@")}127.0.0.1:{Port}/cam";

    /// <summary>Starts ffmpeg and returns once its packets arrive.</summary>
    public void StartStreaming()
    {
        File.Delete(sdpFile);
        var before = Interlocked.Read(ref packets);
        var rtpPort = ((IPEndPoint)rtp.Client.LocalEndPoint!).Port;
        var rtcpPort = ((IPEndPoint)rtcp.Client.LocalEndPoint!).Port;
        // RTP/JPEG (RFC 2435) needs standard Huffman tables and both quantisation tables in every frame.
        ffmpeg = Ffmpeg.Start(
            $"-hide_banner -loglevel error -nostdin -re -stream_loop -1 -i \"{video}\" -an " +
            "-c:v mjpeg -huffman default -force_duplicated_matrix 1 -pix_fmt yuvj420p -q:v 4 " +
            $"-f rtp -sdp_file \"{sdpFile}\" \"rtp://127.0.0.1:{rtpPort}?rtcpport={rtcpPort}\"",
            ffmpegErrors);

        var clock = Stopwatch.StartNew();
        while (!File.Exists(sdpFile) || Interlocked.Read(ref packets) == before)
        {
            if (ffmpeg.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException($"test setup: ffmpeg did not start streaming ({(ffmpeg.HasExited ? "exited " + ffmpeg.ExitCode : "no packets after 10 s")}): {ffmpegErrors}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Kills ffmpeg: the stream goes silent, the RTSP connections stay open.</summary>
    public void StopStreaming()
    {
        Ffmpeg.Stop(ffmpeg);
        ffmpeg = null;
    }

    public void Dispose()
    {
        StopStreaming();
        stop.Cancel();
        listener.Stop();
        rtp.Dispose();
        rtcp.Dispose();
        lock (playing)
        {
            foreach (var client in playing)
                client.Dispose();
            playing.Clear();
        }
    }

    private void Relay(UdpReceiveResult packet)
    {
        Interlocked.Increment(ref packets);
        Client[] playing;
        lock (this.playing)
            playing = [.. this.playing];
        foreach (var client in playing)
        {
            if (!client.SendInterleaved(ClientChannel, packet.Buffer))
            {
                lock (this.playing)
                    this.playing.Remove(client);
            }
        }
    }

    private void Serve(Client client)
    {
        using (client)
        {
            try
            {
                while (client.ReadRequest() is { } request)
                {
                    if (!Answer(client, request))
                        break;
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                // The client went away.
            }
            finally
            {
                lock (playing)
                    playing.Remove(client);
            }
        }
    }

    /// <summary>Answers one request; false when the session is over.</summary>
    private bool Answer(Client client, RtspRequest request)
    {
        switch (request.Method)
        {
            case "OPTIONS":
                client.Reply(request, "200 OK", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n");
                return true;
            case "DESCRIBE":
                client.Reply(request, "200 OK", $"Content-Base: {request.Url.TrimEnd('/')}/\r\nContent-Type: application/sdp\r\n", SessionDescription());
                return true;
            case "SETUP" when !request.Header("Transport").Contains("TCP", StringComparison.OrdinalIgnoreCase):
                // Asking for UDP first is normal; 461 makes the client fall back to TCP, which needs no more ports.
                client.Reply(request, "461 Unsupported Transport", "");
                return true;
            case "SETUP":
                client.Reply(request, "200 OK", $"Session: {client.Session};timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved={ClientChannel}-{ClientChannel + 1}\r\n");
                return true;
            case "PLAY":
                client.Reply(request, "200 OK", $"Session: {client.Session}\r\nRange: npt=0.000-\r\n");
                lock (playing)
                    playing.Add(client);
                return true;
            case "GET_PARAMETER":
            case "SET_PARAMETER":
                client.Reply(request, "200 OK", $"Session: {client.Session}\r\n");
                return true;
            case "TEARDOWN":
                client.Reply(request, "200 OK", $"Session: {client.Session}\r\n");
                return false;
            default:
                client.Reply(request, "501 Not Implemented", "");
                return true;
        }
    }

    /// <summary>ffmpeg's description of its RTP stream, turned into one an RTSP client sets up through this server.</summary>
    private string SessionDescription()
    {
        var lines = File.ReadAllLines(sdpFile)
            .Where(line => line.Length > 0)
            .Select(line => line.StartsWith("m=video ", StringComparison.Ordinal) ? "m=video 0 " + string.Join(' ', line.Split(' ')[2..])
                : line.StartsWith("c=", StringComparison.Ordinal) ? "c=IN IP4 0.0.0.0"
                : line)
            .Append("a=control:streamid=0");
        return string.Join("\r\n", lines) + "\r\n";
    }

    private sealed record RtspRequest(string Method, string Url, IReadOnlyDictionary<string, string> Headers)
    {
        public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
    }

    /// <summary>One RTSP connection: requests in, replies and interleaved packets out.</summary>
    private sealed class Client(TcpClient connection) : IDisposable
    {
        private readonly NetworkStream stream = connection.GetStream();
        private readonly Lock writing = new();

        public string Session { get; } = Random.Shared.Next(10_000_000, 99_999_999).ToString();

        /// <summary>The next request, skipping the RTCP reports a TCP client sends back; null when the client closed.</summary>
        public RtspRequest? ReadRequest()
        {
            while (true)
            {
                var first = stream.ReadByte();
                if (first < 0)
                    return null;
                if (first == '$')
                {
                    Span<byte> header = stackalloc byte[3];
                    stream.ReadExactly(header);
                    var skip = new byte[(header[1] << 8) | header[2]];
                    stream.ReadExactly(skip);
                    continue;
                }

                var requestLine = (char)first + ReadLine();
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                for (var line = ReadLine(); line.Length > 0; line = ReadLine())
                {
                    var colon = line.IndexOf(':');
                    if (colon > 0)
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }

                if (headers.TryGetValue("Content-Length", out var length) && int.Parse(length) > 0)
                    stream.ReadExactly(new byte[int.Parse(length)]);
                var parts = requestLine.Split(' ');
                return new RtspRequest(parts[0], parts.Length > 1 ? parts[1] : "", headers);
            }
        }

        public void Reply(RtspRequest request, string status, string headers, string body = "")
        {
            var bodyBytes = Encoding.UTF8.GetBytes(body);
            var text = $"RTSP/1.0 {status}\r\nCSeq: {request.Header("CSeq")}\r\n{headers}Content-Length: {bodyBytes.Length}\r\n\r\n";
            lock (writing)
            {
                stream.Write(Encoding.ASCII.GetBytes(text));
                stream.Write(bodyBytes);
            }
        }

        /// <summary>Sends one RTP packet on <paramref name="channel"/>; false when the client is gone.</summary>
        public bool SendInterleaved(int channel, byte[] packet)
        {
            try
            {
                lock (writing)
                {
                    stream.Write([(byte)'$', (byte)channel, (byte)(packet.Length >> 8), (byte)packet.Length]);
                    stream.Write(packet);
                }

                return true;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                return false;
            }
        }

        public void Dispose() => connection.Dispose();

        private string ReadLine()
        {
            var line = new StringBuilder();
            while (true)
            {
                var next = stream.ReadByte();
                if (next < 0)
                    throw new IOException("connection closed in mid-request");
                if (next == '\n')
                    return line.ToString().TrimEnd('\r');
                line.Append((char)next);
            }
        }
    }
}
