using System.CommandLine;
using System.Text;
using DefectInspector.Host.Hmi;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector hmi hash-password`: the PasswordHash of an Hmi:Users entry, so no password sits in a config file.</summary>
internal static class HmiCommand
{
    public static Command Create()
    {
        var hash = new Command("hash-password", "Reads a password (typed without echo, or the first line of standard input) and prints its hash for Hmi:Users:N:PasswordHash.");
        hash.SetAction(parse =>
        {
            string? password = Console.IsInputRedirected ? Console.In.ReadLine() : Prompt(parse.InvocationConfiguration.Error);
            if (string.IsNullOrEmpty(password))
            {
                parse.InvocationConfiguration.Error.WriteLine("error: password: expected at least one character (standard input was empty)");
                return 2;
            }
            parse.InvocationConfiguration.Output.WriteLine(Passwords.Hash(password));
            return 0;
        });
        return new Command("hmi", "Operator review station (web HMI) tools.") { hash };
    }

    private static string Prompt(TextWriter prompt)
    {
        prompt.Write("Password: ");
        var password = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace) { if (password.Length > 0) password.Length--; }
            else if (!char.IsControl(key.KeyChar)) password.Append(key.KeyChar);
        }
        prompt.WriteLine();
        return password.ToString();
    }
}
