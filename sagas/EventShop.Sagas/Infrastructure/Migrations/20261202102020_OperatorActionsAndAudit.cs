using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace EventShop.Sagas.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class OperatorActionsAndAudit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "FailedCompensation",
                schema: "sagas",
                table: "order_states",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FailureCode",
                schema: "sagas",
                table: "order_states",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "StateEnteredAt",
                schema: "sagas",
                table: "order_states",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "audit_entries",
                schema: "sagas",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Subject = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Target = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Service = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    OrderId = table.Column<Guid>(type: "uuid", nullable: true),
                    Detail = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_entries", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_At",
                schema: "sagas",
                table: "audit_entries",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_OrderId",
                schema: "sagas",
                table: "audit_entries",
                column: "OrderId");

            // The time a saga entered its state, on the database's clock like its deadline (ADR 0008): what "stuck" is measured by.
            migrationBuilder.Sql("""
                UPDATE sagas.order_states SET "StateEnteredAt" = "UpdatedAt";

                CREATE OR REPLACE FUNCTION sagas.set_step_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW."StepTimeout" IS NULL THEN
                        NEW."StepDeadline" := NULL;
                    ELSIF TG_OP = 'INSERT' OR NEW."StepToken" IS DISTINCT FROM OLD."StepToken" THEN
                        NEW."StepDeadline" := now() + NEW."StepTimeout";
                    END IF;
                    IF TG_OP = 'INSERT' OR NEW."CurrentState" IS DISTINCT FROM OLD."CurrentState" THEN
                        NEW."StateEnteredAt" := now();
                    END IF;
                    RETURN NEW;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION sagas.set_step_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW."StepTimeout" IS NULL THEN
                        NEW."StepDeadline" := NULL;
                    ELSIF TG_OP = 'INSERT' OR NEW."StepToken" IS DISTINCT FROM OLD."StepToken" THEN
                        NEW."StepDeadline" := now() + NEW."StepTimeout";
                    END IF;
                    RETURN NEW;
                END $$;
                """);

            migrationBuilder.DropTable(
                name: "audit_entries",
                schema: "sagas");

            migrationBuilder.DropColumn(
                name: "FailedCompensation",
                schema: "sagas",
                table: "order_states");

            migrationBuilder.DropColumn(
                name: "FailureCode",
                schema: "sagas",
                table: "order_states");

            migrationBuilder.DropColumn(
                name: "StateEnteredAt",
                schema: "sagas",
                table: "order_states");
        }
    }
}
