using EventShop.Orders.StatusNotifications;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace EventShop.Orders.Infrastructure.Migrations
{
    /// <summary>
    /// Every change of an order's status notifies <see cref="OrderStatusListener.Channel"/> with the order id and the
    /// writer's application name, so every Orders replica learns of it at commit, whichever replica made it. A trigger
    /// rather than a NOTIFY in the consumers: it runs inside the UPDATE (no round trip of its own), and a change made any
    /// other way (an operator's fix) notifies too.
    /// </summary>
    [DbContext(typeof(OrdersDbContext))]
    [Migration("20261201143000_OrderStatusNotifications")]
    public partial class OrderStatusNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"""
                CREATE OR REPLACE FUNCTION orders.notify_order_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('{OrderStatusListener.Channel}', NEW."OrderId"::text || ' ' || current_setting('application_name'));
                    RETURN NULL;
                END $$;

                CREATE TRIGGER order_status_changed AFTER UPDATE OF "Status" ON orders.orders
                    FOR EACH ROW WHEN (OLD."Status" IS DISTINCT FROM NEW."Status")
                    EXECUTE FUNCTION orders.notify_order_status_changed();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER order_status_changed ON orders.orders;
                DROP FUNCTION orders.notify_order_status_changed();
                """);
        }
    }
}
