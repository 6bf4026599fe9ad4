using System.CommandLine;
using DefectInspector.Cli.Commands;

var root = new RootCommand("DefectInspector: GAP-ResNet defect inspection with class activation maps.")
{
    ExplainCommand.Create(),
    BenchCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
