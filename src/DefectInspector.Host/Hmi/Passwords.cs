using Microsoft.AspNetCore.Identity;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// HMI passwords as ASP.NET Core Identity stores them (PBKDF2, HMAC-SHA512, salted, 100,000 iterations): the
/// configuration holds only the hash, made by `defect-inspector hmi hash-password`.
/// </summary>
public static class Passwords
{
    // Identity's format marker for the current (v3) hash, then prf, iterations, salt length, salt, subkey.
    private const byte Version3 = 0x01;

    // The hasher takes a user for subclasses that salt by user; this one ignores it.
    private static readonly object AnyUser = new();
    private static readonly PasswordHasher<object> Hasher = new();

    // Checked when the user name is unknown, so that a wrong name takes as long as a wrong password.
    private static readonly string Decoy = Hasher.HashPassword(AnyUser, Guid.NewGuid().ToString());

    public static string Hash(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return Hasher.HashPassword(AnyUser, password);
    }

    public static bool IsHash(string text)
    {
        var bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text, bytes, out int length) && length >= 13 + 16 + 32 && bytes[0] == Version3;
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="hash"/>; null hash = unknown user (always false, same cost).</summary>
    public static bool Verify(string? hash, string password) =>
        Hasher.VerifyHashedPassword(AnyUser, hash ?? Decoy, password) != PasswordVerificationResult.Failed && hash is not null;
}
