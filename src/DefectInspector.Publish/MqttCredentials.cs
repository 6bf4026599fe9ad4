using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;

namespace DefectInspector.Publish;

/// <summary>The password and the TLS settings of a client connection, read from <see cref="MqttOptions"/>.</summary>
public static class MqttCredentials
{
    /// <summary><see cref="MqttOptions.Password"/>, else the first line of <see cref="MqttOptions.PasswordFile"/>, else null.</summary>
    public static string? Password(MqttOptions options)
    {
        if (!string.IsNullOrEmpty(options.Password))
        {
            return options.Password;
        }

        if (string.IsNullOrWhiteSpace(options.PasswordFile))
        {
            return null;
        }

        try
        {
            using var reader = new StreamReader(options.PasswordFile);
            return reader.ReadLine() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read Mqtt:PasswordFile {options.PasswordFile}: {e.Message}", e);
        }
    }

    public static MqttClientTlsOptions Tls(MqttOptions options, string host)
    {
        var builder = new MqttClientTlsOptionsBuilder().UseTls(true).WithTargetHost(host);

        if (!string.IsNullOrWhiteSpace(options.CaFile))
        {
            var authorities = LoadCertificates(options.CaFile, "Mqtt:CaFile");
            builder.WithCertificateValidationHandler(e => ChainsToAuthority(e.Certificate, e.Chain, e.SslPolicyErrors, authorities));
        }

        if (!string.IsNullOrWhiteSpace(options.ClientCertificateFile))
        {
            X509Certificate2 certificate;
            try
            {
                certificate = X509Certificate2.CreateFromPemFile(
                    options.ClientCertificateFile, string.IsNullOrWhiteSpace(options.ClientKeyFile) ? null : options.ClientKeyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException(
                    $"cannot load the MQTT client certificate {options.ClientCertificateFile} (key {options.ClientKeyFile}): {e.Message}", e);
            }

            builder.WithClientCertificates(new X509Certificate2Collection(certificate));
        }

        return builder.Build();
    }

    /// <summary>
    /// Accepts the broker's certificate only when its host name matched and it chains to one of
    /// <paramref name="authorities"/> (the CA file), not to whatever the system trusts.
    /// </summary>
    internal static bool ChainsToAuthority(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private static X509Certificate2Collection LoadCertificates(string path, string setting)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"cannot read {setting} {path}: {e.Message}", e);
        }

        return certificates.Count > 0 ? certificates : throw new InvalidOperationException($"{setting} {path} holds no PEM certificate");
    }
}
