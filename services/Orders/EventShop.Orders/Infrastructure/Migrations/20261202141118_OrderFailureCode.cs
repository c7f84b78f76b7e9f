using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Orders.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class OrderFailureCode : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "FailureCode",
                schema: "orders",
                table: "orders",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "FailureCode",
                schema: "orders",
                table: "orders");
        }
    }
}
