// The tenant's customers and customer users, as far as device claiming needs them: a customer to own a
// claimed device, and a CUSTOMER_USER whose JWT calls the claim API. Validation messages follow
// ThingsBoard's CustomerDataValidator / CustomerServiceImpl and UserDataValidator / UserServiceImpl.
import { randomUUID } from 'node:crypto';
import { ApiError, NULL_UUID } from './model.js';

export interface Customer {
  id: string;
  createdTime: number;
  title: string;
  email: string | null;
  additionalInfo: unknown;
}

export interface CustomerUser {
  id: string;
  createdTime: number;
  customerId: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class Customers {
  readonly byId = new Map<string, Customer>();
  readonly users = new Map<string, CustomerUser>();

  constructor(private readonly tenantId: string) {}

  /** POST /api/customer (create only). */
  createCustomer(body: Record<string, unknown>): Customer {
    const title = str(body.title)?.trim() ?? '';
    if (title === '') throw new ApiError(400, 31, 'Customer title should be specified!');
    if (title === 'Public') throw new ApiError(400, 31, "'Public' title for customer is system reserved!");
    for (const c of this.byId.values()) if (c.title === title) throw new ApiError(400, 31, 'Customer with such title already exists!');
    const c: Customer = {
      id: randomUUID(),
      createdTime: Date.now(),
      title,
      email: str(body.email),
      additionalInfo: body.additionalInfo ?? null,
    };
    this.byId.set(c.id, c);
    return c;
  }

  getCustomer(id: string): Customer {
    const c = this.byId.get(id.toLowerCase());
    if (!c) throw new ApiError(404, 32, `Customer with id [${id}] is not found`);
    return c;
  }

  /** POST /api/user for a CUSTOMER_USER (the only authority the emulator creates). */
  createUser(body: Record<string, unknown>): CustomerUser {
    const email = str(body.email)?.trim().toLowerCase() ?? '';
    if (email === '') throw new ApiError(400, 31, 'User email should be specified!');
    if (body.authority === undefined || body.authority === null) throw new ApiError(400, 31, "User authority isn't defined!");
    if (body.authority !== 'CUSTOMER_USER') {
      throw new ApiError(400, 31, `The emulator creates CUSTOMER_USER users only (got ${String(body.authority)})`);
    }
    const customerId = str((body.customerId as { id?: unknown } | undefined)?.id);
    if (!customerId || customerId === NULL_UUID) throw new ApiError(400, 31, 'Customer user should be assigned to customer!');
    if (!this.byId.has(customerId.toLowerCase())) throw new ApiError(400, 31, 'User is referencing to non-existent customer!');
    for (const u of this.users.values()) {
      if (u.email === email) throw new ApiError(400, 31, `User with email '${email}'  already present in database!`);
    }
    const u: CustomerUser = {
      id: randomUUID(),
      createdTime: Date.now(),
      customerId: customerId.toLowerCase(),
      email,
      firstName: str(body.firstName),
      lastName: str(body.lastName),
    };
    this.users.set(u.id, u);
    return u;
  }

  getUser(id: string): CustomerUser {
    const u = this.users.get(id.toLowerCase());
    if (!u) throw new ApiError(404, 32, `User with id [${id}] is not found`);
    return u;
  }

  customerJson(c: Customer): Record<string, unknown> {
    return {
      id: { entityType: 'CUSTOMER', id: c.id },
      createdTime: c.createdTime,
      tenantId: { entityType: 'TENANT', id: this.tenantId },
      title: c.title,
      name: c.title,
      country: null,
      state: null,
      city: null,
      address: null,
      address2: null,
      zip: null,
      phone: null,
      email: c.email,
      additionalInfo: c.additionalInfo,
      externalId: null,
      version: 1,
    };
  }

  userJson(u: CustomerUser): Record<string, unknown> {
    return {
      id: { entityType: 'USER', id: u.id },
      createdTime: u.createdTime,
      tenantId: { entityType: 'TENANT', id: this.tenantId },
      customerId: { entityType: 'CUSTOMER', id: u.customerId },
      email: u.email,
      authority: 'CUSTOMER_USER',
      firstName: u.firstName,
      lastName: u.lastName,
      phone: null,
      name: u.email,
      additionalInfo: {},
      version: 1,
    };
  }
}
