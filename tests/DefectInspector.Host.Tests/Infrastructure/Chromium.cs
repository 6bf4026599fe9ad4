using Microsoft.Playwright;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>Debian's chromium, driven by Playwright: never a browser Playwright downloads (this machine has no internet).</summary>
internal static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: the HMI tests need Debian's chromium (`apt-get install chromium`; deploy/setup.sh --tests installs it)");
        // Without the background-networking switches chromium keeps trying to reach Google, which a line PC's closed
        // network refuses; running as root (CI) needs --no-sandbox.
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>Where screenshots go: artifacts/ beside the test assembly, kept after the run.</summary>
    public static string Artefact(string name) =>
        Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName, name);
}
