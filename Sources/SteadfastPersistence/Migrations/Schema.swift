/// Every migration Steadfast has. Each feature keeps its migrations in its own file, in its own
/// block of version numbers, so features can be built side by side:
///
/// | versions | feature |
/// | --- | --- |
/// | 1–99 | accounts, sessions, settings (``FoundationMigrations``) |
/// | 100–199 | file storage |
/// | 200–299 | billing (``BillingMigrations``; invoices as documents and visitor carts, 210–211, ``BillingDocumentMigrations``) |
/// | 300–399 | scheduler |
/// | 400–499 | support desk (``SupportMigrations``) |
/// | 500–599 | e-mail (``MailMigrations``) |
/// | 600–699 | account self-service, two-factor log-in (``AccountMigrations``); the audit trail, 650 (``AuditMigrations``) |
///
/// The ``Migrator`` applies every version a database lacks, whatever its number, so blocks do not
/// need to land in order. Never edit or renumber a migration once it has shipped.
public enum Schema {
    /// In version order, whichever file a block lives in (a fresh database is built in that
    /// order, the same on every node and engine).
    public static let migrations: [Migration] = (
        FoundationMigrations.all + StorageMigrations.all + BillingMigrations.all + BillingDocumentMigrations.all + SchedulerMigrations.all
            + SupportMigrations.all + MailMigrations.all + AccountMigrations.all + AuditMigrations.all
    ).sorted { $0.version < $1.version }
}
