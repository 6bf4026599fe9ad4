using System.CommandLine;
using DefectInspector.Training.Data;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Cli.Commands;

/// <summary>The flags that say which labelled images to use, shared by train and evaluate.</summary>
internal sealed class DataOptions
{
    public Option<string> Data { get; } = new("--data") { Description = "An MVTec AD folder, an ImageFolder (<class>/*.png, 'good' = defect-free) or a CSV manifest.", Required = true };

    public Option<string?> GroupPattern { get; } = new("--group-pattern") { Description = "Regex whose first group, applied to file names, names the group (e.g. '^(exp\\d+)_' for capture sessions)." };

    public Option<string[]> Groups { get; } = new("--groups") { Description = "Use only these groups (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };

    public Option<bool> Strict { get; } = new("--strict") { Description = "Stop at the first unreadable image instead of skipping it with a warning." };

    public void AddTo(Command command)
    {
        command.Options.Add(Data);
        command.Options.Add(GroupPattern);
        command.Options.Add(Groups);
        command.Options.Add(Strict);
    }

    public Dataset Read(ParseResult parse, ILogger log)
    {
        var data = DatasetReader.Open(parse.GetValue(Data)!, new DatasetReadOptions(parse.GetValue(Strict), parse.GetValue(GroupPattern)), log);
        var groups = SplitList(parse.GetValue(Groups));
        return groups.Count > 0 ? data.SelectGroups(groups) : data;
    }

    public static IReadOnlyList<string> SplitList(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
}
