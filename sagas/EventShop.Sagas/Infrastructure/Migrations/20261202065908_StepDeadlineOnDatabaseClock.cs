using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Sagas.Infrastructure.Migrations
{
    /// <summary>
    /// Step deadlines on the database's clock (ADR 0008). The saga writes the step's timeout and a new step token; this
    /// trigger turns them into "StepDeadline" with now() whenever the token changes, and clears it once the saga has ended
    /// (no timeout). Any other write keeps the deadline it is given: the saga writes back what it read under its row lock,
    /// the sweeper moves it on when it raises the timeout again. A trigger rather than SQL in the saga store: the saga row
    /// is written by the generic statements of TableMap, and every writer (an operator's fix too) gets the same rule.
    /// </summary>
    public partial class StepDeadlineOnDatabaseClock : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CompensationFailure",
                schema: "sagas",
                table: "order_states",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "StepAttempts",
                schema: "sagas",
                table: "order_states",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<TimeSpan>(
                name: "StepTimeout",
                schema: "sagas",
                table: "order_states",
                type: "interval",
                nullable: true);

            // Sagas in flight keep their deadline; give them the default timeout so the next step's deadline is computed.
            migrationBuilder.Sql("""
                UPDATE sagas.order_states SET "StepTimeout" = interval '30 seconds', "StepAttempts" = 1
                WHERE "StepDeadline" IS NOT NULL;

                CREATE OR REPLACE FUNCTION sagas.set_step_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW."StepTimeout" IS NULL THEN
                        NEW."StepDeadline" := NULL;
                    ELSIF TG_OP = 'INSERT' OR NEW."StepToken" IS DISTINCT FROM OLD."StepToken" THEN
                        NEW."StepDeadline" := now() + NEW."StepTimeout";
                    END IF;
                    RETURN NEW;
                END $$;

                CREATE TRIGGER step_deadline BEFORE INSERT OR UPDATE ON sagas.order_states
                    FOR EACH ROW EXECUTE FUNCTION sagas.set_step_deadline();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER step_deadline ON sagas.order_states;
                DROP FUNCTION sagas.set_step_deadline();
                """);

            migrationBuilder.DropColumn(
                name: "CompensationFailure",
                schema: "sagas",
                table: "order_states");

            migrationBuilder.DropColumn(
                name: "StepAttempts",
                schema: "sagas",
                table: "order_states");

            migrationBuilder.DropColumn(
                name: "StepTimeout",
                schema: "sagas",
                table: "order_states");
        }
    }
}
