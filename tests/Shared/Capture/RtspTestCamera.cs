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

    private readonly string _video;
    private readonly string _sdpFile;
    private readonly TcpListener _listener;
    private readonly UdpClient _rtp;
    private readonly UdpClient _rtcp;
    private readonly List<Client> _playing = [];
    private readonly StringBuilder _ffmpegErrors = new();
    private readonly CancellationTokenSource _stop = new();
    private Process? _ffmpeg;
    private long _packets;

    public RtspTestCamera(string video, string workFolder)
    {
        _video = video;
        _sdpFile = Path.Combine(workFolder, "camera.sdp");
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _rtp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _rtcp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _ = Task.Run(() => Loopback.Receive(_listener.AcceptTcpClientAsync, c => Task.Run(() => Serve(new Client(c))), _stop.Token));
        _ = Task.Run(() => Loopback.Receive(_rtp.ReceiveAsync, Relay, _stop.Token));
        _ = Task.Run(() => Loopback.Receive(_rtcp.ReceiveAsync, _ => { }, _stop.Token));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The camera's address, with user info when given (the camera asks for no credentials).</summary>
    public string Url(string? userInfo = null) => $"rtsp://{(userInfo is null ? "" : userInfo + "@")}127.0.0.1:{Port}/cam";

    /// <summary>Starts ffmpeg and returns once its packets arrive.</summary>
    public void StartStreaming()
    {
        File.Delete(_sdpFile);
        var before = Interlocked.Read(ref _packets);
        var rtpPort = ((IPEndPoint)_rtp.Client.LocalEndPoint!).Port;
        var rtcpPort = ((IPEndPoint)_rtcp.Client.LocalEndPoint!).Port;
        // RTP/JPEG (RFC 2435) needs standard Huffman tables and both quantisation tables in every frame.
        _ffmpeg = Ffmpeg.Start(
            $"-hide_banner -loglevel error -nostdin -re -stream_loop -1 -i \"{_video}\" -an " +
            "-c:v mjpeg -huffman default -force_duplicated_matrix 1 -pix_fmt yuvj420p -q:v 4 " +
            $"-f rtp -sdp_file \"{_sdpFile}\" \"rtp://127.0.0.1:{rtpPort}?rtcpport={rtcpPort}\"",
            _ffmpegErrors);

        var clock = Stopwatch.StartNew();
        while (!File.Exists(_sdpFile) || Interlocked.Read(ref _packets) == before)
        {
            if (_ffmpeg.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException($"test setup: ffmpeg did not start streaming ({(_ffmpeg.HasExited ? "exited " + _ffmpeg.ExitCode : "no packets after 10 s")}): {_ffmpegErrors}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Kills ffmpeg: the stream goes silent, the RTSP connections stay open.</summary>
    public void StopStreaming()
    {
        Ffmpeg.Stop(_ffmpeg);
        _ffmpeg = null;
    }

    public void Dispose()
    {
        StopStreaming();
        _stop.Cancel();
        _listener.Stop();
        _rtp.Dispose();
        _rtcp.Dispose();
        lock (_playing)
        {
            foreach (var client in _playing)
                client.Dispose();
            _playing.Clear();
        }
    }

    private void Relay(UdpReceiveResult packet)
    {
        Interlocked.Increment(ref _packets);
        Client[] playing;
        lock (_playing)
            playing = [.. _playing];
        foreach (var client in playing)
        {
            if (!client.SendInterleaved(ClientChannel, packet.Buffer))
            {
                lock (_playing)
                    _playing.Remove(client);
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
                lock (_playing)
                    _playing.Remove(client);
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
                lock (_playing)
                    _playing.Add(client);
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
        var lines = File.ReadAllLines(_sdpFile)
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
        private readonly NetworkStream _stream = connection.GetStream();
        private readonly Lock _writing = new();

        public string Session { get; } = Random.Shared.Next(10_000_000, 99_999_999).ToString();

        /// <summary>The next request, skipping the RTCP reports a TCP client sends back; null when the client closed.</summary>
        public RtspRequest? ReadRequest()
        {
            while (true)
            {
                var first = _stream.ReadByte();
                if (first < 0)
                    return null;
                if (first == '$')
                {
                    Span<byte> header = stackalloc byte[3];
                    _stream.ReadExactly(header);
                    var skip = new byte[(header[1] << 8) | header[2]];
                    _stream.ReadExactly(skip);
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
                    _stream.ReadExactly(new byte[int.Parse(length)]);
                var parts = requestLine.Split(' ');
                return new RtspRequest(parts[0], parts.Length > 1 ? parts[1] : "", headers);
            }
        }

        public void Reply(RtspRequest request, string status, string headers, string body = "")
        {
            var bodyBytes = Encoding.UTF8.GetBytes(body);
            var text = $"RTSP/1.0 {status}\r\nCSeq: {request.Header("CSeq")}\r\n{headers}Content-Length: {bodyBytes.Length}\r\n\r\n";
            lock (_writing)
            {
                _stream.Write(Encoding.ASCII.GetBytes(text));
                _stream.Write(bodyBytes);
            }
        }

        /// <summary>Sends one RTP packet on <paramref name="channel"/>; false when the client is gone.</summary>
        public bool SendInterleaved(int channel, byte[] packet)
        {
            try
            {
                lock (_writing)
                {
                    _stream.Write([(byte)'$', (byte)channel, (byte)(packet.Length >> 8), (byte)packet.Length]);
                    _stream.Write(packet);
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
                var next = _stream.ReadByte();
                if (next < 0)
                    throw new IOException("connection closed in mid-request");
                if (next == '\n')
                    return line.ToString().TrimEnd('\r');
                line.Append((char)next);
            }
        }
    }
}
