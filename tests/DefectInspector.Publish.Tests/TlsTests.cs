using System.Security.Cryptography.X509Certificates;

namespace DefectInspector.Publish.Tests;

/// <summary>TLS to Mosquitto with a private CA and client certificates, made by openssl in the test.</summary>
public sealed class TlsTests : StationTests
{
    [Fact]
    public async Task Connects_over_tls_when_the_broker_certificate_chains_to_the_ca_file_and_sends_a_client_certificate()
    {
        using var pki = new OpensslPki();
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
        using var pki = new OpensslPki();
        using var other = new OpensslPki();
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
        using var pki = new OpensslPki();
        using var other = new OpensslPki();
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

    private static MosquittoBroker StartTlsBroker(OpensslPki pki) => MosquittoBroker.Start(
        listener: $"""
            listener {"{port}"} 127.0.0.1
            allow_anonymous true
            cafile {pki.CaFile}
            certfile {pki.ServerCertificateFile}
            keyfile {pki.ServerKeyFile}
            require_certificate true
            """);
}
