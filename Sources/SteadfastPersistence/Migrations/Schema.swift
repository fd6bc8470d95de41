/// Every migration Steadfast has. Each feature keeps its migrations in its own file, in its own
/// block of version numbers, so features can be built side by side:
///
/// | versions | feature |
/// | --- | --- |
/// | 1–99 | accounts, sessions, settings (``FoundationMigrations``) |
/// | 100–199 | file storage |
/// | 200–299 | billing |
/// | 300–399 | scheduler |
/// | 400–499 | support desk (``SupportMigrations``) |
/// | 500–599 | e-mail (``MailMigrations``) |
/// | 600–699 | account self-service, two-factor log-in (``AccountMigrations``); the audit trail, 650 (``AuditMigrations``) |
///
/// The ``Migrator`` applies every version a database lacks, whatever its number, so blocks do not
/// need to land in order. Never edit or renumber a migration once it has shipped.
public enum Schema {
    public static let migrations: [Migration] = FoundationMigrations.all + StorageMigrations.all + BillingMigrations.all + BillingDocumentMigrations.all + SchedulerMigrations.all + SupportMigrations.all + MailMigrations.all + AccountMigrations.all + AuditMigrations.all
}
