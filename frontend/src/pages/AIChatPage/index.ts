export { default } from './AIChatPage';
