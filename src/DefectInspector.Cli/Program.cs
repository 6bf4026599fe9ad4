using System.CommandLine;
using DefectInspector.Cli.Commands;

var root = new RootCommand("DefectInspector: GAP-ResNet defect inspection with class activation maps.")
{
    ExplainCommand.Create(),
    ExportCommand.Create(),
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    BenchCommand.Create(),
    RunCommand.Create(),
    ConfigCommand.Create(),
    HmiCommand.Create(),
};
// Ctrl-C and SIGTERM cancel the command's token; a training step or a Score-CAM batch may take several seconds
// to notice, and only then is the checkpoint state known to be whole.
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
return await root.Parse(args).InvokeAsync(configuration);
