namespace EventShop.Orders.Domain;

public enum OrderStatus { Pending, Completed, Cancelled }
