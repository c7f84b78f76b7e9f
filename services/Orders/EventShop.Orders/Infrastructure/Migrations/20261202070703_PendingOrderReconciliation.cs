using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Orders.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class PendingOrderReconciliation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ReconciledAt",
                schema: "orders",
                table: "orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_orders_ReconciledAt",
                schema: "orders",
                table: "orders",
                column: "ReconciledAt",
                filter: "\"Status\" = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_orders_ReconciledAt",
                schema: "orders",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "ReconciledAt",
                schema: "orders",
                table: "orders");
        }
    }
}
