namespace EventShop.Points.Domain;

public enum MemberStatus { Active, Suspended }
