using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Publish.Storage;

/// <summary>
/// Opens the daemon's SQLite files one way: WAL (checked, not just asked for), synchronous=FULL, a busy timeout. A file
/// that SQLite finds damaged while opening it is moved aside (<c>&lt;file&gt;.damaged-&lt;time&gt;</c>, with its WAL and
/// shared-memory files) with an error in the log, and an empty one is started: the line must not stop because an old
/// store cannot be read.
/// </summary>
/// <remarks>
/// Damage is what SQLite reports while switching to WAL and creating the schema (a file that is not a database, a
/// corrupt header or schema). No whole-file integrity check runs at start: on a full outbox it would read every
/// stored snapshot before the line could start; damage found later fails the statement that meets it.
/// </remarks>
public static class SqliteStore
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    // Another process that briefly holds the file (a backup, the sqlite3 shell) makes a statement wait, not fail.
    private const int BusyTimeoutMilliseconds = 5000;

    /// <param name="path">The database file; its folder must exist.</param>
    /// <param name="store">Names the store in messages ("Outbox", "Review store").</param>
    /// <param name="lostOnDamage">What a damaged file takes with it, for the log ("the messages it held are not delivered").</param>
    /// <param name="createSchema">Creates or upgrades the tables; runs on every open, so it must be idempotent.</param>
    public static SqliteConnection Open(string path, string store, string lostOnDamage, Action<SqliteConnection> createSchema, ILogger logger, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(createSchema);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            return Connect(path, store, createSchema);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            string aside = $"{path}.damaged-{time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
            foreach (string suffix in new[] { "", "-wal", "-shm" })
            {
                if (File.Exists(path + suffix))
                {
                    File.Move(path + suffix, aside + suffix);
                }
            }

            logger.LogError("{Store} {Path} is damaged ({Reason}): moved to {Aside}; {Lost}. Starting with an empty one",
                store, path, e.Message, aside, lostOnDamage);
            return Connect(path, store, createSchema);
        }
    }

    private static SqliteConnection Connect(string path, string store, Action<SqliteConnection> createSchema)
    {
        var connection = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        var db = new SqliteConnection(connection.ToString());
        try
        {
            db.Open();
            using (var wal = db.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode=WAL";
                if (wal.ExecuteScalar() is not string mode || !mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"{store} {path}: SQLite cannot use WAL mode on this file system; put Storage:Path on a local disk");
                }
            }

            using (var settings = db.CreateCommand())
            {
                settings.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={BusyTimeoutMilliseconds}");
                settings.ExecuteNonQuery();
            }

            createSchema(db);
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }
}
