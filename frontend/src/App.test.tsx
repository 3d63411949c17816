import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App';
import { FakeWebSocket } from './test/fake-websocket';

describe('routes', () => {
  beforeEach(() => {
    // The page connects on mount; no server here.
    vi.stubGlobal('WebSocket', FakeWebSocket);
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it('/ redirects to /chat', () => {
    render(
      <MemoryRouter initialEntries={['/']}>
        <App />
      </MemoryRouter>,
    );
    expect(screen.getByRole('heading', { name: 'AI 비서' })).toBeTruthy();
    expect(screen.getByTestId('chat-input')).toBeTruthy();
  });

  it('/chat is the page', () => {
    render(
      <MemoryRouter initialEntries={['/chat']}>
        <App />
      </MemoryRouter>,
    );
    expect(screen.getByTestId('connection-status')).toBeTruthy();
  });

  it('anything else is the page’s own 404 with a way back', () => {
    render(
      <MemoryRouter initialEntries={['/nope/deeper']}>
        <App />
      </MemoryRouter>,
    );
    expect(screen.getByTestId('not-found')).toBeTruthy();
    expect(screen.getByRole('heading', { name: '페이지를 찾을 수 없습니다' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'AI 비서로 가기' }).getAttribute('href')).toBe('/chat');
  });
});
