using System.Security.Cryptography.X509Certificates;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// A private CA, a server certificate for 127.0.0.1/localhost and a client certificate, made by the openssl command
/// line as a plant's IT would make them, as PEM files in a temp folder.
/// </summary>
public sealed class OpensslPki : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pki-").FullName;

    public OpensslPki()
    {
        CaFile = Path.Combine(directory, "ca.pem");
        Openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", Path.Combine(directory, "ca.key"), "-out", CaFile, "-subj", "/CN=DefectInspector Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        (ServerCertificateFile, ServerKeyFile) = Issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        (ClientCertificateFile, ClientKeyFile) = Issue("client", "/CN=station-st1", "extendedKeyUsage=clientAuth");
        Ca = X509CertificateLoader.LoadCertificateFromFile(CaFile);
        Server = X509CertificateLoader.LoadCertificateFromFile(ServerCertificateFile);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public string CaFile { get; }

    public string ServerCertificateFile { get; }

    public string ServerKeyFile { get; }

    public string ClientCertificateFile { get; }

    public string ClientKeyFile { get; }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    private (string Certificate, string Key) Issue(string name, string subject, string extensions)
    {
        string key = Path.Combine(directory, $"{name}.key"), request = Path.Combine(directory, $"{name}.csr");
        string certificate = Path.Combine(directory, $"{name}.pem"), extensionFile = Path.Combine(directory, $"{name}.ext");
        File.WriteAllText(extensionFile, extensions + "\n");
        Openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", request, "-subj", subject);
        Openssl("x509", "-req", "-in", request, "-CA", CaFile, "-CAkey", Path.Combine(directory, "ca.key"), "-CAcreateserial",
            "-days", "1", "-extfile", extensionFile, "-out", certificate);
        return (certificate, key);
    }

    private static void Openssl(params string[] args) =>
        Tool.Run("openssl", "the TLS tests make their certificates with it (apt-get install openssl)", args);
}
