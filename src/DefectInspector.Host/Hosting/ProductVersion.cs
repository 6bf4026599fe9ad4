using System.Reflection;

namespace DefectInspector.Host.Hosting;

public static class ProductVersion
{
    /// <summary>The product version without build metadata (e.g. "0.1.0").</summary>
    public static string Current { get; } =
        (typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];
}
