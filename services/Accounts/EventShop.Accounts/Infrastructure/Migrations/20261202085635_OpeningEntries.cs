using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Accounts.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class OpeningEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_AccountId_Opening",
                schema: "accounts",
                table: "ledger_entries",
                column: "AccountId",
                unique: true,
                filter: "\"Type\" = 'Opening'");

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries",
                columns: new[] { "OrderId", "Type" },
                unique: true,
                filter: "\"Type\" <> 'Opening'");

            // Accounts opened before this migration get the opening entry they would have had: what their balance
            // holds beyond the sum of their order entries, so that every balance is the sum of its ledger from now on.
            migrationBuilder.Sql("""
                INSERT INTO accounts.ledger_entries ("AccountId", "OrderId", "Type", "Amount", "CreatedAt")
                SELECT a."AccountId", '00000000-0000-0000-0000-000000000000', 'Opening',
                       a."Balance" - COALESCE((SELECT SUM(l."Amount") FROM accounts.ledger_entries l WHERE l."AccountId" = a."AccountId"), 0),
                       a."CreatedAt"
                FROM accounts.accounts a;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DELETE FROM accounts.ledger_entries WHERE "Type" = 'Opening';""");

            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_AccountId_Opening",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries",
                columns: new[] { "OrderId", "Type" },
                unique: true);
        }
    }
}
