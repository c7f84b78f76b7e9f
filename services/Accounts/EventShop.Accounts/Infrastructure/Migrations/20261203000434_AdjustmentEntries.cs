using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Accounts.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AdjustmentEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Adjustments belong to no order (OrderId is the empty id, as for openings), so the per-order index leaves them
            // out; a retried adjustment is caught by its author's Idempotency-Key instead.
            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.AddColumn<string>(
                name: "Author",
                schema: "accounts",
                table: "ledger_entries",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "IdempotencyKey",
                schema: "accounts",
                table: "ledger_entries",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Reason",
                schema: "accounts",
                table: "ledger_entries",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_Author_IdempotencyKey",
                schema: "accounts",
                table: "ledger_entries",
                columns: new[] { "Author", "IdempotencyKey" },
                unique: true,
                filter: "\"IdempotencyKey\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries",
                columns: new[] { "OrderId", "Type" },
                unique: true,
                filter: "\"Type\" NOT IN ('Opening', 'Adjustment')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_adjustment_has_author_and_reason",
                schema: "accounts",
                table: "ledger_entries",
                sql: "\"Type\" <> 'Adjustment' OR (\"Author\" IS NOT NULL AND \"Reason\" IS NOT NULL)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Before this migration there were no adjustments; the old per-order index would refuse more than one of them.
            migrationBuilder.Sql("""DELETE FROM accounts.ledger_entries WHERE "Type" = 'Adjustment';""");

            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_Author_IdempotencyKey",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropCheckConstraint(
                name: "ck_adjustment_has_author_and_reason",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "Author",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "IdempotencyKey",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.DropColumn(
                name: "Reason",
                schema: "accounts",
                table: "ledger_entries");

            migrationBuilder.CreateIndex(
                name: "IX_ledger_entries_OrderId_Type",
                schema: "accounts",
                table: "ledger_entries",
                columns: new[] { "OrderId", "Type" },
                unique: true,
                filter: "\"Type\" <> 'Opening'");
        }
    }
}
