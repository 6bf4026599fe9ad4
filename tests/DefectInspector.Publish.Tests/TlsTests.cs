using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DefectInspector.Publish.Tests;

/// <summary>TLS to Mosquitto with a private CA and client certificates, all made here.</summary>
public sealed class TlsTests : StationTests
{
    [Fact]
    public async Task Connects_over_tls_when_the_broker_certificate_chains_to_the_ca_file_and_sends_a_client_certificate()
    {
        using var pki = new TestPki();
        using var broker = StartTlsBroker(pki);
        var log = new ListLogger();
        await using var publisher = await Publishers.StartAsync(broker.Port, log, configure: o =>
        {
            o.UseTls = true;
            o.CaFile = pki.CaFile;
            o.ClientCertificateFile = pki.ClientCertificateFile;
            o.ClientKeyFile = pki.ClientKeyFile;
        });

        await publisher.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);

        Assert.True(publisher.IsConnected);
    }

    [Fact]
    public async Task A_broker_certificate_from_another_ca_is_a_tls_failure()
    {
        using var pki = new TestPki();
        using var other = new TestPki();
        using var broker = StartTlsBroker(pki);
        await using var publisher = Publishers.Create(broker.Port, new ListLogger(), configure: o =>
        {
            o.UseTls = true;
            o.CaFile = other.CaFile;
            o.ClientCertificateFile = pki.ClientCertificateFile;
            o.ClientKeyFile = pki.ClientKeyFile;
        });

        var error = await Assert.ThrowsAsync<MqttConnectException>(() => publisher.StartAsync(CancellationToken.None));

        Assert.Contains("TLS failure", error.Message);
        Assert.Contains($"127.0.0.1:{broker.Port}", error.Message);
    }

    [Fact]
    public void The_certificate_check_wants_the_host_name_to_match_and_the_chain_to_end_at_the_ca()
    {
        using var pki = new TestPki();
        using var other = new TestPki();
        var ca = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(pki.Ca.RawData));
        var otherCa = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(other.Ca.RawData));

        Assert.True(MqttCredentials.ChainsToAuthority(pki.Server, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, ca));
        Assert.False(MqttCredentials.ChainsToAuthority(pki.Server, null, System.Net.Security.SslPolicyErrors.None, otherCa));
        Assert.False(MqttCredentials.ChainsToAuthority(pki.Server, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch, ca));
        Assert.False(MqttCredentials.ChainsToAuthority(null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable, ca));
    }

    [Fact]
    public async Task A_missing_ca_file_is_a_configuration_error_at_start()
    {
        await using var publisher = Publishers.Create(MosquittoBroker.FreePort(), new ListLogger(), configure: o => (o.UseTls, o.CaFile) = (true, "/nonexistent/ca.pem"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.StartAsync(CancellationToken.None));

        Assert.Contains("Mqtt:CaFile /nonexistent/ca.pem", error.Message);
    }

    private static MosquittoBroker StartTlsBroker(TestPki pki) => MosquittoBroker.Start(
        listener: $"""
            listener {"{port}"} 127.0.0.1
            allow_anonymous true
            cafile {pki.CaFile}
            certfile {pki.ServerCertificateFile}
            keyfile {pki.ServerKeyFile}
            require_certificate true
            """);

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in a temp folder.</summary>
    private sealed class TestPki : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("pki-").FullName;

        public TestPki()
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=DefectInspector Test CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            Ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            (Server, ServerCertificateFile, ServerKeyFile) = Issue("CN=localhost", names.Build(), "1.3.6.1.5.5.7.3.1", "server");
            (_, ClientCertificateFile, ClientKeyFile) = Issue("CN=station-st1", null, "1.3.6.1.5.5.7.3.2", "client");
            CaFile = Write("ca.pem", Ca.ExportCertificatePem());
        }

        public X509Certificate2 Ca { get; }

        public X509Certificate2 Server { get; }

        public string CaFile { get; }

        public string ServerCertificateFile { get; }

        public string ServerKeyFile { get; }

        public string ClientCertificateFile { get; }

        public string ClientKeyFile { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);

        private (X509Certificate2, string, string) Issue(string subject, X509Extension? names, string usage, string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            if (names is not null)
            {
                request.CertificateExtensions.Add(names);
            }

            var certificate = request.Create(Ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
            return (certificate, Write($"{name}.pem", certificate.ExportCertificatePem()), Write($"{name}.key", key.ExportPkcs8PrivateKeyPem()));
        }

        private string Write(string file, string pem)
        {
            string path = Path.Combine(_directory, file);
            File.WriteAllText(path, pem);
            return path;
        }
    }
}
