using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Sagas.Infrastructure.Migrations
{
    /// <summary>
    /// A saga's CreatedAt on the database's clock, set by the trigger that already sets its deadline and StateEnteredAt (ADR 0008).
    /// The continuous invariant check cuts the sagas it counts by CreatedAt against the gateway's time (ADR 0013); a saga host
    /// 30 s ahead stamped its sagas 30 s in the future, so orders Completed in Orders were missing from the sagas' totals and
    /// order-status-matches-saga-outcome turned red for 30 s after every order (SkewedSagaClockTests).
    /// </summary>
    public partial class SagaCreatedOnTheDatabaseClock : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Function(setCreatedAt: true));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(Function(setCreatedAt: false));
        }

        static string Function(bool setCreatedAt) => """
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
            """ + (setCreatedAt ? """
                IF TG_OP = 'INSERT' THEN
                    NEW."CreatedAt" := now();
                END IF;
            """ : "") + """
                RETURN NEW;
            END $$;
            """;
    }
}
