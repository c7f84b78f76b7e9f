using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace EventShop.Sagas.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class RecordedSagaMessages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "order_saga_messages",
                schema: "sagas",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    MessageId = table.Column<Guid>(type: "uuid", nullable: true),
                    MessageType = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Body = table.Column<string>(type: "jsonb", nullable: false),
                    Headers = table.Column<string>(type: "jsonb", nullable: false),
                    StateBefore = table.Column<string>(type: "jsonb", nullable: false),
                    StateAfter = table.Column<string>(type: "jsonb", nullable: false),
                    Sent = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_order_saga_messages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_order_saga_messages_At",
                schema: "sagas",
                table: "order_saga_messages",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_order_saga_messages_OrderId",
                schema: "sagas",
                table: "order_saga_messages",
                column: "OrderId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "order_saga_messages",
                schema: "sagas");
        }
    }
}
