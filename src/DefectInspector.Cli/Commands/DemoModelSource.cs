using DefectInspector.Host.Hosting;
using DefectInspector.Training.Demo;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// The daemon's model when Model:Path is empty: the built-in demo model, trained on the virtual line's parts into the
/// state directory the first time. `run` trains it before the daemon starts, with a progress bar; a daemon that still
/// finds it missing (its state directory was emptied) trains it here, saying so in the log.
/// </summary>
internal sealed class DemoModelSource(ILoggerFactory loggers) : IDefaultModel
{
    public string Ensure(string folder, string device, CancellationToken cancellation)
    {
        var logger = loggers.CreateLogger("DefectInspector.DemoModel");
        return DemoModel.Ensure(folder, device, new LoggingTrainingProgress(logger), logger, cancellation);
    }
}
